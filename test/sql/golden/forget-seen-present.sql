DELETE s FROM [dbo].[crm_ResyncSeen] AS s WHERE s.[EntityName] = @p1
AND EXISTS (SELECT 1 FROM [dbo].[crm_contact] AS t WHERE t.[Id] = s.[RecordId]);
