// Package compliance generates the compliance checks of a flow: it explores
// every conversation state a customer can reach, breadth first from a fresh
// customer over classes of input (each button and list row, each keyword,
// a sample of each regex, unmatched text, STOP, START, HELP, each timer, a
// day of silence, a redelivered message), on the real engine (bot.Service)
// with a clock it moves, and checks at each state that
//
//   - P1: STOP leaves every topic of the business opted_out and is confirmed;
//   - P2: HELP is answered and changes no consent;
//   - P3: no template is allowed unless the customer said YES to its topic
//     (but for authentication templates: one-time codes the customer asked
//     for need no opt-in);
//   - P4: a redelivered message changes nothing;
//   - P5: a consent grant from outside the chat re-opens nothing unless it
//     is explicit (WhatsApp, the business, the topic) and newer than the
//     customer's STOP, and never after a provider stop;
//   - P6: no negative answer ("no", "later", "what?": flows.NegativeAnswers)
//     records an opt-in in a state that asks for one.
//   - P7: a near-miss opt-out ("Unsubscribe me", "basta", "🛑", "sair"…)
//     opts out or asks whether to stop, never grants consent or gets a
//     flow answer, and a YES to that question is no opt-in.
//   - P8: no consent from a YES to an expired opt-in request, or from a
//     bare number where the prompt showed no numbered choices.
//
// A violation comes with the shortest conversation that shows it, replayed
// on a fresh engine over memstore. Run is `optinbot test --compliance`;
// Check is what lint calls. See docs/compliance.md.
package compliance
