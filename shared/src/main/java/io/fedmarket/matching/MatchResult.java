package io.fedmarket.matching;

/** What the solver answers: a {@link Match} (a job can be opened) or a {@link NoMatch} (with the failed constraint). */
public sealed interface MatchResult permits Match, NoMatch {
}
