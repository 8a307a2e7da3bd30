"""The SQL trace store: schema (models), migrations, engine setup and the group-commit writer."""
