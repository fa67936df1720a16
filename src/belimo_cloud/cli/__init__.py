"""The `belimo` command line: one module per command family; render.py does all the printing."""
