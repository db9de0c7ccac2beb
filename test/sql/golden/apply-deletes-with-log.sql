DECLARE @tombstoned TABLE ([RecordId] uniqueidentifier PRIMARY KEY, [VersionNumber] bigint NOT NULL);
MERGE [dbo].[crm_Tombstone] WITH (HOLDLOCK) AS [tombstone]
USING (SELECT * FROM OPENJSON(@p1) WITH (
    [Id] uniqueidentifier '$."Id"',
    [versionnumber] bigint '$."versionnumber"'
  ) AS [incoming]) AS [incoming]
ON [tombstone].[EntityName] = @p2 AND [tombstone].[RecordId] = [incoming].[Id]
WHEN MATCHED AND [tombstone].[VersionNumber] < [incoming].[versionnumber] THEN
  UPDATE SET [VersionNumber] = [incoming].[versionnumber], [TombstonedOn] = SYSUTCDATETIME()
WHEN NOT MATCHED BY TARGET THEN
  INSERT ([EntityName], [RecordId], [VersionNumber], [TombstonedOn])
  VALUES (@p2, [incoming].[Id], [incoming].[versionnumber], SYSUTCDATETIME())
OUTPUT inserted.[RecordId], inserted.[VersionNumber] INTO @tombstoned;
DECLARE @survived int = (SELECT COUNT(*) FROM [dbo].[crm_contact] AS [target] INNER JOIN @tombstoned AS [done] ON [target].[Id] = [done].[RecordId]
  WHERE [target].[versionnumber] > [done].[VersionNumber]);
DELETE [target] FROM [dbo].[crm_contact] AS [target] INNER JOIN @tombstoned AS [done] ON [target].[Id] = [done].[RecordId]
  WHERE [target].[versionnumber] IS NULL OR [target].[versionnumber] <= [done].[VersionNumber];
INSERT INTO [dbo].[crm_DeleteLog] ([EntityName], [RecordId], [SinkDeleteTime], [VersionNumber])
  SELECT @p2, LOWER(CONVERT(nvarchar(64), [RecordId])), SYSUTCDATETIME(), [VersionNumber] FROM @tombstoned;
SELECT COUNT(*) AS [applied], @survived AS [survived] FROM @tombstoned;
