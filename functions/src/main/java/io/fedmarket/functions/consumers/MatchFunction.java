package io.fedmarket.functions.consumers;

import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import io.fedmarket.messages.IntentSubmitted;
import io.quarkus.funqy.Funq;
import jakarta.inject.Inject;

/** Lambda {@code match}: turns a submitted intent into a job (or an UNMATCHED intent with the reason). */
public class MatchFunction {
    @Inject
    MatchService match;

    @Funq("match")
    public void match(SQSEvent.SQSMessage record) {
        Records.handle("match", record, IntentSubmitted.class, match::match);
    }
}
