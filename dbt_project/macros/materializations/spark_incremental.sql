{#- Incremental models on Spark are rebuilt in full, as tables. Why: silver's incremental rule
    (macros/silver/incremental.sql) replaces rows by key (delete+insert) and deletes the rows a
    re-delivered batch no longer carries, and alerts keep a lifecycle by key; the Spark target
    writes Parquet tables (the Delta writer for Spark is not installable here), which support
    neither DELETE nor MERGE, and insert_overwrite replaces partitions, not keys. A full build
    computes the rows an incremental one converges to (README, "Incremental entities"); on a new
    Spark warehouse every alert is first detected at the run's as-of date. -#}
{% materialization incremental, adapter='spark' %}
    {{ return(materialization_table_spark()) }}
{% endmaterialization %}
