"""najma.spark: the Spark engine, in one place: the journey build and the ratings, for logs that outgrow one machine.

It runs the same journey pipeline and the same rating arithmetic as the DuckDB store, through
Ibis's PySpark backend (``pip install 'najma[spark]'``, and Java 17). Every name is imported on
first use, so importing najma never starts or imports Spark.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(__name__, submod_attrs={
    "_engine": ["SparkTables", "SparkBuild", "spark_session", "build_on_spark", "attach_to_store"],
    "_ratings": ["rate_on_spark", "rate_quarter_on_spark", "rate_events_on_spark"],
    "_ingest": ["ingest_on_spark", "check_spark_ingest", "SparkIngest"],
})
