"""`python -m belimo_cloud.cli`: the same command line as the `belimo` script."""

from belimo_cloud.cli.app import main

if __name__ == "__main__":
    main()
