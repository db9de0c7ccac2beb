ALTER TABLE [dbo].[crm_contact] ADD [sample_segment] nvarchar(40) NULL
