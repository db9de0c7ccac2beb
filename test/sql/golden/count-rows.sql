SELECT COUNT_BIG(*) AS [rows] FROM [dbo].[crm_contact]
