IF OBJECT_ID(N'[dbo].[crm_ResyncSeen]', N'U') IS NULL
CREATE TABLE [dbo].[crm_ResyncSeen] (
  [EntityName] nvarchar(128) NOT NULL,
  [RecordId] uniqueidentifier NOT NULL
)
