// Parses T-SQL batches with Microsoft's parser (Microsoft.SqlServer.TransactSql.ScriptDom, the one behind SqlPackage
// and SSDT), so a statement the mssql dialect generates is known to be T-SQL without a SQL Server at hand.
// Input: a file holding a JSON array of strings, each one batch as the driver sends it. Output: one JSON line per
// batch on stdout (its parse errors and the node types it parsed into), a summary on stderr; exit 1 on any error.
// TSql160Parser is SQL Server 2022 / Azure SQL Database's grammar; the package also has TSql170Parser (SQL Server 2025).
// API: https://learn.microsoft.com/dotnet/api/microsoft.sqlserver.transactsql.scriptdom.tsql160parser
using System.Text.Json;
using Microsoft.SqlServer.TransactSql.ScriptDom;

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: TsqlCheck <file with a JSON array of T-SQL batches>");
    return 2;
}

var batches = JsonSerializer.Deserialize<List<string>>(File.ReadAllText(args[0])) ?? [];
var statements = 0;
var errors = 0;
for (var index = 0; index < batches.Count; index++)
{
    var result = Checker.Check(batches[index]);
    statements += result.Statements.Count;
    errors += result.Errors.Count;
    foreach (var error in result.Errors)
    {
        Console.Error.WriteLine($"batch {index}: line {error.Line}, column {error.Column}: {error.Message} near \"{error.Text}\"");
    }
    Console.WriteLine(JsonSerializer.Serialize(new { index, result.Errors, result.Statements, result.Nodes }));
}
Console.Error.WriteLine($"ScriptDom TSql160Parser: parsed {statements} statements in {batches.Count} batches, {errors} errors");
return errors == 0 ? 0 : 1;

record Error(int Line, int Column, string Message, string Text);

record Result(List<Error> Errors, List<string> Statements, SortedDictionary<string, int> Nodes);

static class Checker
{
    public static Result Check(string sql)
    {
        var result = new Result([], [], []);
        Parse(sql, result, "");
        return result;
    }

    // Dynamic SQL in EXEC(N'…') is parsed too (its statements are listed as "EXEC>Type"), so the text a
    // statement runs through EXEC is no more left unchecked than the statement around it.
    static void Parse(string sql, Result result, string prefix)
    {
        // QUOTED_IDENTIFIER ON, as the mssql driver opens its sessions (tedious: enableQuotedIdentifier defaults to true).
        var parser = new TSql160Parser(initialQuotedIdentifiers: true);
        var fragment = parser.Parse(new StringReader(sql), out var parseErrors);
        var where = prefix.Length == 0 ? "" : "in the string run by EXEC: ";
        foreach (var error in parseErrors)
        {
            result.Errors.Add(new Error(error.Line, error.Column, where + error.Message, Near(sql, error.Offset)));
        }
        if (fragment is not TSqlScript script) return;
        var counter = new NodeCounter(result.Nodes);
        script.Accept(counter);
        foreach (var statement in script.Batches.SelectMany(batch => batch.Statements))
        {
            result.Statements.Add(prefix + statement.GetType().Name);
        }
        foreach (var dynamic in counter.DynamicSql) Parse(dynamic, result, prefix + "EXEC>");
    }

    static string Near(string sql, int offset)
    {
        if (offset < 0 || offset >= sql.Length) return "<end of batch>";
        var end = sql.IndexOf('\n', offset);
        var text = sql[offset..(end < 0 ? sql.Length : end)];
        return text.Length > 60 ? text[..60] + "…" : text;
    }
}

// Counts every node by type: TSqlFragmentVisitor's typed Visit methods all end in Visit(TSqlFragment).
sealed class NodeCounter(SortedDictionary<string, int> nodes) : TSqlFragmentVisitor
{
    public List<string> DynamicSql { get; } = [];

    public override void Visit(TSqlFragment node)
    {
        var name = node.GetType().Name;
        nodes[name] = nodes.GetValueOrDefault(name) + 1;
    }

    public override void Visit(ExecutableStringList node)
    {
        base.Visit(node);
        if (node.Strings.All(value => value is StringLiteral))
        {
            DynamicSql.Add(string.Concat(node.Strings.Cast<StringLiteral>().Select(literal => literal.Value)));
        }
    }
}
