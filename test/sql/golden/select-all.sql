SELECT * FROM [dbo].[crm_contact]
