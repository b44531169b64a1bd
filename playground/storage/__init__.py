"""The SQLite database: connection, migrations, backups and the stores of records.
"""
