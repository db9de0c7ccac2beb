IF OBJECT_ID(N'[dbo].[crm_AttributeMetadata]', N'U') IS NULL
CREATE TABLE [dbo].[crm_AttributeMetadata] (
  [Id] bigint IDENTITY(1,1) NOT NULL,
  [EntityName] nvarchar(128) NOT NULL,
  [AttributeName] nvarchar(128) NOT NULL,
  [AttributeType] nvarchar(128) NOT NULL,
  [AttributeTypeCode] int NOT NULL,
  [Version] bigint NULL,
  [Timestamp] datetime2 NOT NULL,
  [MetadataId] uniqueidentifier NOT NULL,
  [Precision] int NULL,
  CONSTRAINT [PK_crm_AttributeMetadata] PRIMARY KEY ([Id])
)
