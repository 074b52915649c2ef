package flows

import (
	"strings"
	"testing"
)

// messages: confirm_stop and stop_declined word the question whether to
// stop and the answer to a NO, per language like the other messages.
func TestStopQuestionMessages(t *testing.T) {
	src := `business: Café Olé
language: fr
messages:
  confirm_stop:
    fr: Vous voulez quitter {business} sur WhatsApp ? Répondez STOP.
    es: ¿Quieres dejar {business} en WhatsApp? Responde STOP.
  stop_declined: Très bien, rien ne change.
states:
  ask:
    prompt: Bonjour
`
	f, err := Load("cafe.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	m := f.Messages
	if m.ConfirmStop != "Vous voulez quitter {business} sur WhatsApp ? Répondez STOP." || m.StopDeclined != "Très bien, rien ne change." {
		t.Errorf("messages %+v", m)
	}
	es := m.For("es")
	if es.ConfirmStop != "¿Quieres dejar {business} en WhatsApp? Responde STOP." || es.StopDeclined != "Très bien, rien ne change." {
		t.Errorf("Spanish %+v", es)
	}
	_, err = Load("bad.yaml", []byte(strings.Replace(src, "  stop_declined: Très bien, rien ne change.", "  stop_declined: [x]", 1)))
	if err == nil || !strings.Contains(err.Error(), "stop_declined in messages must be a string") {
		t.Errorf("a list as stop_declined: %v", err)
	}
}
