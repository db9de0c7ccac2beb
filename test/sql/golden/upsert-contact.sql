MERGE [dbo].[crm_contact] WITH (HOLDLOCK) AS [target]
USING (
  SELECT [incoming].*, CASE WHEN [incoming].[versionnumber] > ISNULL((SELECT [floor].[VersionNumber] FROM [dbo].[crm_VersionFloor] AS [floor] WHERE [floor].[EntityName] = @p2), -1)
    OR EXISTS (SELECT 1 FROM [dbo].[crm_ResyncSeen] AS [seen] WHERE [seen].[EntityName] = @p2 AND [seen].[RecordId] = [incoming].[Id])
    THEN 1 ELSE 0 END AS [dvx:insertable]
  FROM OPENJSON(@p1) WITH (
    [Id] uniqueidentifier '$."Id"',
    [contactid] uniqueidentifier '$."contactid"',
    [firstname] nvarchar(max) '$."firstname"',
    [lastname] nvarchar(max) '$."lastname"',
    [fullname] nvarchar(max) '$."fullname"',
    [emailaddress1] nvarchar(max) '$."emailaddress1"',
    [jobtitle] nvarchar(max) '$."jobtitle"',
    [birthdate] datetime2 '$."birthdate"',
    [parentcustomerid] uniqueidentifier '$."parentcustomerid"',
    [parentcustomerid_entitytype] nvarchar(max) '$."parentcustomerid_entitytype"',
    [annualincome] decimal(38,10) '$."annualincome"',
    [transactioncurrencyid] uniqueidentifier '$."transactioncurrencyid"',
    [transactioncurrencyid_entitytype] nvarchar(max) '$."transactioncurrencyid_entitytype"',
    [donotphone] bit '$."donotphone"',
    [preferredcontactmethodcode] int '$."preferredcontactmethodcode"',
    [createdon] datetime2 '$."createdon"',
    [modifiedon] datetime2 '$."modifiedon"',
    [createdby] uniqueidentifier '$."createdby"',
    [createdby_entitytype] nvarchar(max) '$."createdby_entitytype"',
    [modifiedby] uniqueidentifier '$."modifiedby"',
    [modifiedby_entitytype] nvarchar(max) '$."modifiedby_entitytype"',
    [ownerid] uniqueidentifier '$."ownerid"',
    [ownerid_entitytype] nvarchar(max) '$."ownerid_entitytype"',
    [owneridtype] nvarchar(max) '$."owneridtype"',
    [statecode] int '$."statecode"',
    [statuscode] int '$."statuscode"',
    [versionnumber] bigint '$."versionnumber"'
  ) AS [incoming]
  WHERE NOT EXISTS (SELECT 1 FROM [dbo].[crm_Tombstone] AS [tombstone]
    WHERE [tombstone].[EntityName] = @p2 AND [tombstone].[RecordId] = [incoming].[Id]
    AND [tombstone].[VersionNumber] >= [incoming].[versionnumber])
) AS [source]
ON [target].[Id] = [source].[Id]
WHEN MATCHED AND ([target].[versionnumber] IS NULL OR [target].[versionnumber] < [source].[versionnumber]) THEN
  UPDATE SET [SinkModifiedOn] = SYSUTCDATETIME(), [contactid] = [source].[contactid], [firstname] = [source].[firstname], [lastname] = [source].[lastname], [fullname] = [source].[fullname], [emailaddress1] = [source].[emailaddress1], [jobtitle] = [source].[jobtitle], [birthdate] = [source].[birthdate], [parentcustomerid] = [source].[parentcustomerid], [parentcustomerid_entitytype] = [source].[parentcustomerid_entitytype], [annualincome] = [source].[annualincome], [transactioncurrencyid] = [source].[transactioncurrencyid], [transactioncurrencyid_entitytype] = [source].[transactioncurrencyid_entitytype], [donotphone] = [source].[donotphone], [preferredcontactmethodcode] = [source].[preferredcontactmethodcode], [createdon] = [source].[createdon], [modifiedon] = [source].[modifiedon], [createdby] = [source].[createdby], [createdby_entitytype] = [source].[createdby_entitytype], [modifiedby] = [source].[modifiedby], [modifiedby_entitytype] = [source].[modifiedby_entitytype], [ownerid] = [source].[ownerid], [ownerid_entitytype] = [source].[ownerid_entitytype], [owneridtype] = [source].[owneridtype], [statecode] = [source].[statecode], [statuscode] = [source].[statuscode], [versionnumber] = [source].[versionnumber]
WHEN NOT MATCHED BY TARGET AND [source].[dvx:insertable] = 1 THEN
  INSERT ([Id], [SinkCreatedOn], [SinkModifiedOn], [contactid], [firstname], [lastname], [fullname], [emailaddress1], [jobtitle], [birthdate], [parentcustomerid], [parentcustomerid_entitytype], [annualincome], [transactioncurrencyid], [transactioncurrencyid_entitytype], [donotphone], [preferredcontactmethodcode], [createdon], [modifiedon], [createdby], [createdby_entitytype], [modifiedby], [modifiedby_entitytype], [ownerid], [ownerid_entitytype], [owneridtype], [statecode], [statuscode], [versionnumber])
  VALUES ([source].[Id], SYSUTCDATETIME(), SYSUTCDATETIME(), [source].[contactid], [source].[firstname], [source].[lastname], [source].[fullname], [source].[emailaddress1], [source].[jobtitle], [source].[birthdate], [source].[parentcustomerid], [source].[parentcustomerid_entitytype], [source].[annualincome], [source].[transactioncurrencyid], [source].[transactioncurrencyid_entitytype], [source].[donotphone], [source].[preferredcontactmethodcode], [source].[createdon], [source].[modifiedon], [source].[createdby], [source].[createdby_entitytype], [source].[modifiedby], [source].[modifiedby_entitytype], [source].[ownerid], [source].[ownerid_entitytype], [source].[owneridtype], [source].[statecode], [source].[statuscode], [source].[versionnumber]);
