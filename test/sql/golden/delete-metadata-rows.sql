DELETE FROM [dbo].[crm_StateMetadata] WHERE [EntityName] IN (SELECT [value] FROM OPENJSON(@p1))
