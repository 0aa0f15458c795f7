{#- dbt's view materialization on DuckDB, except that a view whose SQL has not changed since it was
    created is left as it is. Why: every build re-created the 23 staging views, and creating one
    binds every bronze table of its kind (85 for the hospitals' prescriptions, 0.46 s at SF 1):
    2.4 s of dbt's node span in the SF 1 daily run (1.0 s now) for views that change only when
    the code or the registry does. The view's comment holds the md5 of the SQL it was created
    from; the comparison is this node's `main` statement. Keeping it is safe because DuckDB binds
    a view again at every query: a kept view reads exactly what a re-created one would, also
    after the tables under it were rebuilt with other columns. --full-refresh re-creates it.
    Spark builds views as dbt does. -#}
{%- materialization view, adapter='duckdb' -%}
    {%- set fingerprint = 'powertrace sql md5 ' ~ local_md5(sql) -%}
    {%- set existing = load_cached_relation(this) -%}
    {%- if existing is not none and existing.is_view and not should_full_refresh()
           and not pre_hooks and not post_hooks -%}
        {%- call statement('main', fetch_result=True) -%}
            select count(*) from duckdb_views()
            where database_name = '{{ this.database }}' and schema_name = '{{ this.schema }}'
                and view_name = '{{ this.identifier }}' and comment = '{{ fingerprint }}'
        {%- endcall -%}
        {%- if load_result('main').table.columns[0].values()[0] == 1 -%}
            {{ return({'relations': [this.incorporate(type='view')]}) }}
        {%- endif -%}
    {%- endif -%}
    {%- set built = materialization_view_default() -%}
    {%- call statement('fingerprint') -%}
        comment on view {{ this }} is '{{ fingerprint }}'
    {%- endcall -%}
    {{ adapter.commit() }}
    {{ return(built) }}
{%- endmaterialization -%}
