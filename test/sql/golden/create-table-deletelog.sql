IF OBJECT_ID(N'[dbo].[crm_DeleteLog]', N'U') IS NULL
CREATE TABLE [dbo].[crm_DeleteLog] (
  [Id] bigint IDENTITY(1,1) NOT NULL,
  [EntityName] nvarchar(128) NOT NULL,
  [RecordId] nvarchar(64) NOT NULL,
  [SinkDeleteTime] datetime2 NOT NULL,
  [VersionNumber] bigint NOT NULL,
  CONSTRAINT [PK_crm_DeleteLog] PRIMARY KEY ([Id])
)
