ALTER TABLE [dbo].[crm_contact] ALTER COLUMN [emailaddress1] nvarchar(max) NULL
