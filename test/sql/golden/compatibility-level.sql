SELECT [compatibility_level] FROM sys.databases WHERE [name] = DB_NAME()
