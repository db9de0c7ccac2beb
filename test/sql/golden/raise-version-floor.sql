MERGE [dbo].[crm_VersionFloor] WITH (HOLDLOCK) AS [floor]
USING (SELECT CAST(@p1 AS nvarchar(128)) AS [EntityName], CAST(@p2 AS bigint) AS [VersionNumber]) AS [incoming]
ON [floor].[EntityName] = [incoming].[EntityName]
WHEN MATCHED AND [floor].[VersionNumber] < [incoming].[VersionNumber] THEN
  UPDATE SET [VersionNumber] = [incoming].[VersionNumber]
WHEN NOT MATCHED BY TARGET THEN
  INSERT ([EntityName], [VersionNumber]) VALUES ([incoming].[EntityName], [incoming].[VersionNumber]);
