IF OBJECT_ID(N'[dbo].[crm_Tombstone]', N'U') IS NULL
CREATE TABLE [dbo].[crm_Tombstone] (
  [EntityName] nvarchar(128) NOT NULL,
  [RecordId] uniqueidentifier NOT NULL,
  [VersionNumber] bigint NOT NULL,
  [TombstonedOn] datetime2 NOT NULL,
  CONSTRAINT [PK_crm_Tombstone] PRIMARY KEY ([EntityName], [RecordId])
)
