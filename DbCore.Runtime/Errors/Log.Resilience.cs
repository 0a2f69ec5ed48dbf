using Microsoft.Extensions.Logging;

namespace DbCore.Diagnostics;

/// <summary>The log lines of verified commits (<c>ExecuteVerifiedAsync</c>); event ids 20..21 are reserved for them.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 20, EventName = "CommitVerified", Level = LogLevel.Warning,
        Message = "DbCore {Name}: the connection broke during COMMIT; transaction {TransactionId} was verified as {Status} after reconnecting")]
    public static partial void CommitVerified(ILogger logger, string name, long transactionId, string status);

    [LoggerMessage(EventId = 21, EventName = "CommitVerificationFailed", Level = LogLevel.Error,
        Message = "DbCore {Name}: the connection broke during COMMIT and the outcome of transaction {TransactionId} could not be verified ({Status})")]
    public static partial void CommitVerificationFailed(ILogger logger, string name, long transactionId, string status);
}
