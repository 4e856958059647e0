"""All SQL lives here: tables, repositories returning frozen dataclasses, migrations, FSM storage."""
