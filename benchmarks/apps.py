from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    """Load-testing tools (`seed_volume`, `benchmark`): no models, no pages."""

    name = "benchmarks"
    verbose_name = "Benchmarks"
