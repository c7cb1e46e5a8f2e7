"""The measures of PRODUCT.md §3 as pure, column-wise functions.

They take Arrow tables (or DuckDB relations) of activities, `now` and `MeasureSettings`, build
SQL, and run it on an in-memory DuckDB engine: no database, file, clock or environment.
Each measure returns its values and the parts that explain them.
"""
