IF OBJECT_ID(N'[dbo].[crm_VersionFloor]', N'U') IS NULL
CREATE TABLE [dbo].[crm_VersionFloor] (
  [EntityName] nvarchar(128) NOT NULL,
  [VersionNumber] bigint NOT NULL,
  CONSTRAINT [PK_crm_VersionFloor] PRIMARY KEY ([EntityName])
)
