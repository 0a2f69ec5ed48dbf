namespace DbCore.Errors;

/// <summary>Where in a unit of work an exception happened; decides what is safe to retry.</summary>
internal enum ErrorPhase
{
    Acquire,
    Execute,
    Commit,
}
