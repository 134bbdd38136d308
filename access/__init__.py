"""Who may reach which staff page, case and unit: the decorators in front of staff
views (access.staff) and the per-role lookups behind them (access.cases). Not an app:
no models. Imports models and selectors only, never views, services or keys."""
