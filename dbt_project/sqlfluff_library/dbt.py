"""sqlfluff's stand-in for the cross-database macros of dbt's `dbt` namespace the models call,
rendering what dbt-duckdb renders."""


def datediff(first_date: str, second_date: str, datepart: str) -> str:
    return f"(date_diff('{datepart}', {first_date}::timestamp, {second_date}::timestamp))"
