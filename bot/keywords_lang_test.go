package bot

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/optinbot/optinbot/flows"
)

// TestDefaultKeywordLists checks the shipped lists against each other: every
// language has every list and both wordings; no entry normalises to
// nothing; a message is of one kind only, across every language (an
// opt-out word of one language is no polite, start, help or YES word of
// another); the phrases and uncertain entries are not opt-out words of any
// language (a flow dropping its word must be able to have it back as an
// answer); and the answers NO and YES never mean stop or start.
func TestDefaultKeywordLists(t *testing.T) {
	if len(defaults) != len(shippedLanguages) {
		t.Errorf("%d languages in defaults, %d shipped", len(defaults), len(shippedLanguages))
	}
	kinds := map[string]map[string]string{} // normalised entry -> kind -> language
	note := func(lang, kind string, list []string) {
		for _, w := range list {
			for _, n := range spellings(w) {
				if n == "" {
					t.Errorf("%s %s %q normalises to nothing", lang, kind, w)
					continue
				}
				if kinds[n] == nil {
					kinds[n] = map[string]string{}
				}
				if _, ok := kinds[n][kind]; !ok {
					kinds[n][kind] = lang
				}
			}
		}
	}
	for _, lang := range shippedLanguages {
		d, ok := defaults[lang]
		if !ok {
			t.Errorf("no defaults for %s", lang)
			continue
		}
		for kind, list := range map[string][]string{"opt_out": d.OptOut, "phrases": d.Phrases, "unsure": d.Unsure,
			"opt_in": d.OptIn, "help": d.Help, "polite": d.Polite, "yes": d.Yes, "no": d.No} {
			if len(list) == 0 {
				t.Errorf("%s has no %s list", lang, kind)
			}
			note(lang, kind, list)
		}
		for what, text := range map[string]string{"ConfirmStop": d.ConfirmStop, "StopDeclined": d.StopDeclined} {
			if !strings.Contains(text, "{business}") || !strings.Contains(text, "STOP") || !strings.Contains(text, "WhatsApp") {
				t.Errorf("%s %s %q must name {business}, WhatsApp and STOP", lang, what, text)
			}
		}
		if !slices.Contains(d.OptIn, "START") || !slices.Contains(d.OptIn, "UNSTOP") {
			t.Errorf("%s opt_in %q: START and UNSTOP work in every language", lang, d.OptIn)
		}
	}
	// Kinds that may share an entry: the answers to the question are read
	// only after it, and a polite word may be a YES ("お願いします").
	compatible := func(a, b string) bool {
		pair := []string{a, b}
		slices.Sort(pair)
		switch pair[0] + "+" + pair[1] {
		case "polite+yes", "no+polite":
			return true
		}
		return false
	}
	for n, ks := range kinds {
		var names []string
		for k := range ks {
			names = append(names, k)
		}
		slices.Sort(names)
		for i := range names {
			for _, other := range names[i+1:] {
				if !compatible(names[i], other) {
					t.Errorf("%q is %s (%s) and %s (%s)", n, names[i], ks[names[i]], other, ks[other])
				}
			}
		}
	}
}

// ordinaryAnswers are messages customers write as answers, in the shipped
// languages: none of them may be an opt-out, certain or uncertain, in any
// flow. The reading for false positives that chose the lists in
// keywords_lang.go wrote them down here.
var ordinaryAnswers = []string{
	// English
	"yes", "no", "ok", "okay", "fine", "fine thanks", "later", "not now", "no thanks", "maybe", "sure", "thanks",
	"hello", "hi", "1", "2", "3", "Cancel my order", "cancel my order please", "cancel the appointment",
	"don't stop", "dont stop", "the end", "end of story", "where is the bus stop", "stop by tomorrow",
	"I want to stop by the shop", "stopping", "stop all of it", "opt", "out", "help me", "information",
	"Finn", "Parra", "Ana", "Bond", "Band", "Fin", "Basil", "Baja California", "Alto Adige",
	"Remove the second item", "no more questions", "more", "more messages please", "end date", "pause my order",
	"subscribe", "sign me up", "I want updates", "block B", "spam folder",
	// Spanish
	"sí", "vale", "claro", "de acuerdo", "ahora no", "no gracias", "hola", "gracias", "para mí", "para cuándo",
	"cancelar mi pedido", "quiero cancelar mi pedido", "más", "no sé", "nada más",
	// French
	"oui", "non", "d'accord", "pas maintenant", "non merci", "bonjour", "merci", "plus tard", "annuler ma commande",
	"c'est la fin", "arrêt de bus", "plus de détails", "je veux plus de messages",
	// Portuguese
	"sim", "não", "obrigado", "olá", "cancelar meu pedido", "quero sair hoje", "parar onde",
	// German
	"ja", "nein", "danke", "hallo", "bestellung stornieren", "später", "halt mal",
	// Italian
	"sì", "grazie", "ciao", "va bene", "fine settimana", "annulla ordine", "basta così grazie mille ciao",
	// Arabic, Hindi, Indonesian
	"نعم", "لا", "مرحبا", "شكرا", "हाँ", "नहीं", "नमस्ते", "bus stand", "ya", "tidak", "halo", "terima kasih",
	// Chinese, Japanese, Russian, Turkish
	"好的", "谢谢", "你好", "取消订单", "はい", "いいえ", "こんにちは", "注文をキャンセル", "да", "нет", "привет",
	"отменить заказ", "evet", "hayır", "merhaba", "siparişi iptal et",
}

// names are ordinary answers (to "what's your name?") everywhere but in
// the language whose short opt-out words they are: RET and DUR are
// Turkish opt-outs, and only a Turkish flow takes them as such.
var names = map[string]string{"Ret": "tr", "Dur": "tr", "Td": "zh"}

func TestOrdinaryAnswersAreNoOptOuts(t *testing.T) {
	for _, lang := range shippedLanguages {
		k := NewKeywords(lang, nil)
		answers := slices.Clone(ordinaryAnswers)
		for name, l := range names {
			if l != lang {
				answers = append(answers, name)
			}
		}
		for _, text := range answers {
			if m := k.Match(text); m.Kind == KeywordOptOut || m.Kind == KeywordUncertainOptOut {
				t.Errorf("in a %s flow, %q is %s (%s, %s)", lang, text, m.Kind, m.Keyword, m.Language)
			}
		}
	}
}

// Per language, what a flow in that language makes of typical messages.
func TestShippedLanguages(t *testing.T) {
	type check struct {
		in      string
		kind    KeywordKind
		keyword string
	}
	tests := map[string][]check{
		"en": {
			{"Unsubscribe me", KeywordOptOut, "unsubscribe me"},
			{"Please stop sending me messages, thank you!", KeywordOptOut, "stop sending me messages"},
			{"Remove me from your list", KeywordOptOut, "remove me from your list"},
			{"NO MORE MESSAGES", KeywordOptOut, "no more messages"},
			{"unsuscribe", KeywordOptOut, "unsuscribe"},
			{"Stop it", KeywordUncertainOptOut, "stop it"},
			{"enough!", KeywordUncertainOptOut, "enough"},
			{"no more", KeywordUncertainOptOut, "no more"},
			{"cancel my subscription", KeywordUncertainOptOut, "cancel my subscription"},
			{"s t o p", KeywordUncertainOptOut, "STOP"},
			{"S.T.O.P.", KeywordUncertainOptOut, "STOP"},
			{"u n s u b s c r i b e", KeywordUncertainOptOut, "UNSUBSCRIBE"},
			{"stooooop", KeywordUncertainOptOut, "STOP"},
			{"STOPPPP please", KeywordUncertainOptOut, "STOP"},
			{"Stopp", KeywordUncertainOptOut, "STOPP"}, // German, not active
			{"🛑", KeywordUncertainOptOut, "🛑"},
			{"⛔️ please", KeywordUncertainOptOut, "⛔"},
			{"🔕🔕", KeywordUncertainOptOut, "🔕"},
			{"sair", KeywordUncertainOptOut, "SAIR"},
			{"sair por favor", KeywordUncertainOptOut, "SAIR"}, // polite words of any language around it
			{"darme de baja por favor", KeywordOptOut, "darme de baja"},
			{"abonelikten çık", KeywordOptOut, "abonelikten çık"},
			{"ABONELİKTEN ÇIK", KeywordOptOut, "abonelikten çık"},
			{"取消订阅", KeywordOptOut, "取消订阅"},
			{"配信停止してください", KeywordOptOut, "配信停止してください"},
			{"отпишите меня", KeywordOptOut, "отпишите меня"},
			{"stop danke", KeywordNone, ""}, // German polite words do not surround an active word
			{"start", KeywordOptIn, "START"},
			{"help", KeywordHelp, "HELP"},
			{"🛑 where is my order", KeywordNone, ""},
			{"s top", KeywordNone, ""},
		},
		"es": {
			{"ALTO", KeywordOptOut, "ALTO"},
			{"darme de baja", KeywordOptOut, "darme de baja"},
			{"Quiero darme de baja, gracias", KeywordOptOut, "quiero darme de baja"},
			{"basta", KeywordUncertainOptOut, "basta"},
			{"no más", KeywordUncertainOptOut, "no mas"},
			{"ayuda", KeywordHelp, "AYUDA"},
			{"reanudar", KeywordOptIn, "REANUDAR"},
		},
		"fr": {
			{"Arrêt", KeywordOptOut, "ARRET"},
			{"se désabonner", KeywordOptOut, "se desabonner"},
			{"Désabonnez-moi s'il vous plaît", KeywordOptOut, "desabonnez moi"},
			{"arrêter", KeywordUncertainOptOut, "arreter"},
			{"ça suffit", KeywordUncertainOptOut, "ca suffit"},
		},
		"pt": {
			{"sair", KeywordOptOut, "SAIR"},
			{"Não quero mais mensagens", KeywordOptOut, "nao quero mais mensagens"},
			{"chega", KeywordUncertainOptOut, "chega"},
			{"ajuda", KeywordHelp, "AJUDA"},
		},
		"de": {
			{"STOPP", KeywordOptOut, "STOPP"},
			{"Abmelden, bitte", KeywordOptOut, "ABMELDEN"},
			{"keine Nachrichten mehr", KeywordOptOut, "keine nachrichten mehr"},
			{"Hör auf", KeywordUncertainOptOut, "hor auf"},
			{"hilfe", KeywordHelp, "HILFE"},
		},
		"it": {
			{"disiscrivimi", KeywordOptOut, "DISISCRIVIMI"},
			{"Non voglio più messaggi", KeywordOptOut, "non voglio piu messaggi"},
			{"basta", KeywordUncertainOptOut, "basta"},
			{"aiuto", KeywordHelp, "AIUTO"},
		},
		"ar": {
			{"توقف", KeywordOptOut, "توقف"},
			{"إلغاء الاشتراك", KeywordOptOut, "إلغاء الاشتراك"},
			{"الغاء الاشتراك من فضلك", KeywordOptOut, "إلغاء الاشتراك"},
			{"كفى", KeywordUncertainOptOut, "كفى"},
			{"مساعدة", KeywordHelp, "مساعدة"},
		},
		"hi": {
			{"रोको", KeywordOptOut, "रोको"},
			{"सदस्यता रद्द करें", KeywordOptOut, "सदस्यता रद्द करें"},
			{"message mat bhejo", KeywordOptOut, "message mat bhejo"},
			{"band karo", KeywordUncertainOptOut, "band karo"},
			{"मदद", KeywordHelp, "मदद"},
		},
		"id": {
			{"berhenti", KeywordOptOut, "BERHENTI"},
			{"UNREG", KeywordOptOut, "UNREG"},
			{"berhenti berlangganan", KeywordOptOut, "berhenti berlangganan"},
			{"cukup", KeywordUncertainOptOut, "cukup"},
			{"bantuan", KeywordHelp, "BANTUAN"},
		},
		"zh": {
			{"退订", KeywordOptOut, "退订"},
			{"TD", KeywordOptOut, "TD"},
			{"退订，谢谢", KeywordOptOut, "退订"},
			{"够了", KeywordUncertainOptOut, "够了"},
			{"帮助", KeywordHelp, "帮助"},
		},
		"ja": {
			{"配信停止", KeywordOptOut, "配信停止"},
			{"ストップ", KeywordOptOut, "ストップ"},
			{"やめて", KeywordUncertainOptOut, "やめて"},
			{"ヘルプ", KeywordHelp, "ヘルプ"},
		},
		"ru": {
			{"СТОП", KeywordOptOut, "СТОП"},
			{"отписаться", KeywordOptOut, "ОТПИСАТЬСЯ"},
			{"хватит", KeywordUncertainOptOut, "хватит"},
			{"помощь", KeywordHelp, "ПОМОЩЬ"},
		},
		"tr": {
			{"İPTAL", KeywordOptOut, "İPTAL"},
			{"iptal", KeywordOptOut, "İPTAL"},
			{"IPTAL", KeywordOptOut, "İPTAL"},
			{"RET", KeywordOptOut, "RET"},
			{"yeter", KeywordUncertainOptOut, "yeter"},
			{"yardım", KeywordHelp, "yardım"},
			{"YARDIM", KeywordHelp, "yardım"},
		},
	}
	for _, lang := range shippedLanguages {
		checks, ok := tests[lang]
		if !ok {
			t.Errorf("no checks for %s", lang)
			continue
		}
		k := NewKeywords(lang, nil)
		for _, c := range checks {
			got := k.Match(c.in)
			if got.Kind != c.kind || got.Keyword != c.keyword {
				t.Errorf("%s flow: Match(%q) = %+v, want %s %q", lang, c.in, got, c.kind, c.keyword)
			}
			if c.kind != KeywordNone && c.keyword != "🛑" && got.Language == "" && !strings.ContainsAny(c.keyword, "⛔🔕") {
				t.Errorf("%s flow: Match(%q) has no language", lang, c.in)
			}
		}
	}
}

// A flow that drops a default opt-out word wants it as an answer: another
// language's defaults do not take it back as an uncertain opt-out. The
// engine's phrases stay whatever the lists say.
func TestDroppedWordsStayDropped(t *testing.T) {
	k := NewKeywords("es", map[string]flows.KeywordSet{"es": {OptOut: []string{"ALTO", "BAJA"}}})
	for in, want := range map[string]KeywordKind{
		"cancelar":      KeywordNone, // pt lists it too, but the Spanish flow dropped it
		"parar":         KeywordNone,
		"alto":          KeywordOptOut,
		"sair":          KeywordUncertainOptOut,
		"darme de baja": KeywordOptOut,
		"basta":         KeywordUncertainOptOut,
	} {
		if got := k.Match(in).Kind; got != want {
			t.Errorf("Match(%q) = %s, want %s", in, got, want)
		}
	}
	// Not even a flow's own empty-looking English list takes the phrases.
	k = NewKeywords("en", map[string]flows.KeywordSet{"en": {OptOut: []string{"STOP"}}})
	if got := k.Match("stop sending me messages").Kind; got != KeywordOptOut {
		t.Errorf("phrase after an override: %s", got)
	}
	if got := k.Match("unsubscribe").Kind; got != KeywordNone {
		t.Errorf("dropped UNSUBSCRIBE: %s", got)
	}
}

func TestStopAnswers(t *testing.T) {
	k := NewKeywords("en", nil)
	for _, in := range []string{"yes", "Yes please", "YES, STOP", "ok", "sí", "oui merci", "ja bitte", "はい", "да",
		"evet", "yes stop please", "sure thing"} {
		if want := in != "sure thing"; k.ConfirmsStop(Normalize(in)) != want {
			t.Errorf("ConfirmsStop(%q) = %v", in, !want)
		}
	}
	for _, in := range []string{"no", "No thanks", "don't stop", "nein danke", "non", "não", "нет", "いいえ", "no no"} {
		if !k.DeclinesStop(Normalize(in)) {
			t.Errorf("DeclinesStop(%q) = false", in)
		}
	}
	for _, in := range []string{"yes no", "no yes", "maybe", "stop"} {
		if k.DeclinesStop(Normalize(in)) {
			t.Errorf("DeclinesStop(%q) = true", in)
		}
	}
}

func TestSqueeze(t *testing.T) {
	for in, want := range map[string]string{
		"stop": "stop", "stooop": "stop", "stopp": "stop", "stoppp please": "stop please", "parra": "parra",
		"finn": "fin", "all": "al", "aaa": "a", "cc": "c", "a bb c": "a b c", "日日日": "日", "": "",
	} {
		if got := squeeze(in); got != want {
			t.Errorf("squeeze(%q) = %q, want %q", in, got, want)
		}
	}
}

// keywordsGoldenPath lists every shipped list, normalised, so a reviewer
// sees what the engine compares messages with (Normalize drops marks:
// "रोकें" is "रोक", "ストップ" is "ストッフ").
var keywordsGoldenPath = filepath.Join("testdata", "keywords", "defaults.golden")

func TestDefaultKeywordsGolden(t *testing.T) {
	var b strings.Builder
	b.WriteString("# The engine's keyword lists per language, normalised as messages are\n")
	b.WriteString("# (bot/keywords_lang.go). Regenerate with\n")
	b.WriteString("# go test ./bot/ -run TestDefaultKeywordsGolden -update-keywords\n")
	for _, lang := range shippedLanguages {
		d := defaults[lang]
		fmt.Fprintf(&b, "\n[%s]\n", lang)
		for _, l := range []struct {
			name string
			list []string
		}{{"opt_out", d.OptOut}, {"phrases", d.Phrases}, {"unsure", d.Unsure}, {"opt_in", d.OptIn},
			{"help", d.Help}, {"polite", d.Polite}, {"yes", d.Yes}, {"no", d.No}} {
			var ns []string
			for _, w := range l.list {
				ns = append(ns, spellings(w)...)
			}
			fmt.Fprintf(&b, "%s: %s\n", l.name, strings.Join(ns, " | "))
		}
	}
	got := b.String()
	if *updateKeywords {
		if err := os.WriteFile(keywordsGoldenPath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(keywordsGoldenPath)
	if err != nil {
		t.Fatalf("%v (run with -update-keywords to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s is out of date (run with -update-keywords if the change is intended)", keywordsGoldenPath)
	}
}

// The near-miss look-ups stay on the stack: matching allocates nothing,
// whatever the message.
func TestNearMissAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled() {
		t.Skip("allocation counts are not meaningful with coverage or -race")
	}
	k := NewKeywords("en", nil)
	for _, in := range []string{"s t o p", "stooop please", "hello", "a b", "where is my order", "sair", "stop it",
		"stoooooooooooooooooooooooooooooooooop"} {
		n := Normalize(in)
		if got := testing.AllocsPerRun(100, func() { k.MatchMessage(in, n) }); got != 0 {
			t.Errorf("MatchMessage(%q): %v allocations, want 0", in, got)
		}
	}
}

// BenchmarkMatchNearMiss: messages that take the near-miss paths, in an
// English flow: a phrase, an uncertain word of another language, a
// spelled-out and a stretched STOP, a stop sign, and a sentence that is
// none of them.
func BenchmarkMatchNearMiss(b *testing.B) {
	k := NewKeywords("en", nil)
	for _, m := range []struct{ name, text string }{
		{"phrase", "Please stop sending me messages"},
		{"foreign", "sair"},
		{"spelled", "s t o p"},
		{"stretched", "Stooop"},
		{"stop-sign", "🛑"},
		{"sentence", "Hi, where is my order? It was supposed to arrive yesterday."},
	} {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkMatch = k.Match(m.text)
			}
		})
	}
}

// BenchmarkNewKeywords builds a Spanish flow's keywords: once per business
// at start (and per flowtest engine), never per message.
func BenchmarkNewKeywords(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		NewKeywords("es", nil)
	}
}
