INSERT INTO [dbo].[crm_StateMetadata] ([EntityName], [State], [IsUserLocalizedLabel], [LocalizedLabelLanguageCode], [LocalizedLabel])
SELECT [EntityName], [State], [IsUserLocalizedLabel], [LocalizedLabelLanguageCode], [LocalizedLabel] FROM OPENJSON(@p1) WITH (
    [EntityName] nvarchar(max) '$."EntityName"',
    [State] int '$."State"',
    [IsUserLocalizedLabel] bit '$."IsUserLocalizedLabel"',
    [LocalizedLabelLanguageCode] int '$."LocalizedLabelLanguageCode"',
    [LocalizedLabel] nvarchar(max) '$."LocalizedLabel"'
  ) AS [incoming]
