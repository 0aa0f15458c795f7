"""powertrace: big-data supervision of public power on a Delta lakehouse."""
