SELECT TOP (@p2) t.[Id] AS [Id] FROM [dbo].[crm_contact] AS t
WHERE NOT EXISTS (SELECT 1 FROM [dbo].[crm_ResyncSeen] AS s WHERE s.[EntityName] = @p1 AND s.[RecordId] = t.[Id])
ORDER BY t.[Id]
