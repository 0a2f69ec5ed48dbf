namespace DbCore.Tests.Sqlite;

/// <summary>
/// The slot through which a synchronously completed unit hands its work's own task to <c>ExecuteAsync&lt;T&gt;</c>: only the
/// call that opened it can fill it, so another unit resuming inline on the same thread never gives its result to this call.
/// </summary>
public sealed class CompletedWorkTests
{
    [Fact]
    public void Only_the_call_that_opened_the_slot_can_fill_it()
    {
        Task<int> own = Task.FromResult(41 + 100);
        Task<int> other = Task.FromResult(42 + 100);

        long token = CompletedWork.Begin(out long enclosing);
        CompletedWork.Offer(token + 1000, other); // another unit, resumed inline on this thread
        Assert.Null(CompletedWork.End<int>(enclosing));

        token = CompletedWork.Begin(out enclosing);
        CompletedWork.Offer(token, own);
        Assert.Same(own, CompletedWork.End<int>(enclosing));
    }

    [Fact]
    public void An_offer_with_no_open_slot_or_after_the_call_ended_is_dropped()
    {
        Task<int> late = Task.FromResult(7 + 100);
        long token = CompletedWork.Begin(out long enclosing);
        Assert.Null(CompletedWork.End<int>(enclosing));
        CompletedWork.Offer(token, late); // the unit finished after its call returned (it had yielded)

        long next = CompletedWork.Begin(out enclosing);
        Assert.NotEqual(token, next);
        Assert.Null(CompletedWork.End<int>(enclosing)); // nothing kept from the late offer
    }

    [Fact]
    public void A_nested_call_restores_the_enclosing_slot_and_cannot_fill_it()
    {
        Task<string> outerTask = Task.FromResult("outer" + Environment.ProcessId);
        Task<string> innerTask = Task.FromResult("inner" + Environment.ProcessId);

        long outer = CompletedWork.Begin(out long none);
        long inner = CompletedWork.Begin(out long enclosing);
        Assert.Equal(outer, enclosing);
        CompletedWork.Offer(inner, innerTask);
        Assert.Same(innerTask, CompletedWork.End<string>(enclosing));

        CompletedWork.Offer(inner, innerTask); // the nested unit again, after its call ended: not the outer call's
        CompletedWork.Offer(outer, outerTask);
        Assert.Same(outerTask, CompletedWork.End<string>(none));
    }
}
