DECLARE @granted int;
EXEC @granted = sp_getapplock @Resource = @p1, @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = -1;
IF @granted < 0 THROW 51000, N'The table lock was not granted (sp_getapplock returned a negative code); the batch is retried.', 1;
