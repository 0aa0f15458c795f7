"""Quality gates: the expectation suites of ``expectations/`` evaluated against the warehouse.

- suites.py   the suite file format (validated at load, errors name file and field)
- engines.py  how one expectation is evaluated: Great Expectations (pandas) or DuckDB SQL
- validate.py a suite against the warehouse -> SuiteResult; results kept per run; Data Docs
"""
