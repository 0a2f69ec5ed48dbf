using DbCore.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace DbCore.Tests.AspNetCore;

/// <summary>
/// Which results commit the request's unit of work (2xx and 3xx) and which roll it back, for the results whose status is
/// not a property of theirs (review helper-44: a typed union's BadRequest, Forbid and Challenge committed).
/// </summary>
public sealed class UnitOfWorkResultsTests
{
    public static TheoryData<string, object?, bool> MinimalResults => new()
    {
        { "Ok", Results.Ok(), true },
        { "Created", TypedResults.Created("/x", 1), true },
        { "Redirect", Results.Redirect("/x"), true },
        { "LocalRedirect", Results.LocalRedirect("/x"), true },
        { "plain value", "text", true },
        { "BadRequest", Results.BadRequest(), false },
        { "Forbid", Results.Forbid(), false },
        { "Challenge", Results.Challenge(), false },
        { "union of BadRequest", (Results<Ok<int>, BadRequest<string>>)TypedResults.BadRequest("no"), false },
        { "union of Ok", (Results<Ok<int>, BadRequest<string>>)TypedResults.Ok(1), true },
        { "union of Forbid", (Results<Ok<int>, ForbidHttpResult>)TypedResults.Forbid(), false },
    };

    [Theory]
    [MemberData(nameof(MinimalResults))]
    public void A_minimal_api_result_commits_on_2xx_and_3xx(string name, object? result, bool commits)
        => Assert.True(commits == UnitOfWorkResults.IsSuccess(UnitOfWorkResults.StatusOf(result, new DefaultHttpContext())), name);

    public static TheoryData<string, IActionResult, bool> MvcResults => new()
    {
        { "Ok", new OkResult(), true },
        { "Redirect", new RedirectResult("/x"), true },
        { "Forbid", new ForbidResult(), false },
        { "Challenge", new ChallengeResult(), false },
        { "UnprocessableEntity", new UnprocessableEntityResult(), false },
    };

    [Theory]
    [MemberData(nameof(MvcResults))]
    public void An_mvc_result_commits_on_2xx_and_3xx(string name, IActionResult result, bool commits)
        => Assert.True(commits == UnitOfWorkResults.IsSuccess(UnitOfWorkResults.StatusOf(result, new DefaultHttpContext())), name);

    [Fact]
    public void A_stream_is_found_as_the_result_inside_ok_and_inside_an_mvc_object_result()
    {
        IAsyncEnumerable<int> stream = Numbers();
        Assert.True(UnitOfWorkResults.IsAsyncStream(stream));
        Assert.True(UnitOfWorkResults.IsAsyncStream(TypedResults.Ok(stream)));
        Assert.True(UnitOfWorkResults.IsAsyncStream(new OkObjectResult(stream)));
        Assert.False(UnitOfWorkResults.IsAsyncStream(TypedResults.Ok(new List<int> { 1 })));
        Assert.False(UnitOfWorkResults.IsAsyncStream(null));

        static async IAsyncEnumerable<int> Numbers()
        {
            await Task.Yield();
            yield return 1;
        }
    }
}
