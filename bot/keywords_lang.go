package bot

import "github.com/optinbot/optinbot/flows"

// languageDefaults are the engine's global keywords and wording of one
// language. Every list is matched after Normalize (case, accents, width,
// apostrophes and punctuation do not matter), as a whole message with
// polite words allowed around it: "unsubscribe me" is not in "please
// unsubscribe me from marketing". docs/flows.md#global-keywords says what
// each list does; a reading for false positives decided what goes where:
//
//   - OptOut: the opt-out keywords a business announces (STOP, ALTO…): an
//     opt-out at once where the language is active (English, the flow's
//     language, its prompt variants' and its keywords: lists'), a question
//     elsewhere ("sair" to an English flow could be Portuguese or a name).
//     A flow's opt_out list replaces them for its language.
//   - Phrases: sentences that say "stop messaging me" and can say nothing
//     else, in any flow: an opt-out at once in every flow, whatever its
//     languages and lists. No single common word, nothing a flow could ask
//     for as an answer.
//   - Unsure: messages that often mean stop but may answer a question
//     ("basta", "enough", "stop it", "no more", "cancel my subscription"):
//     the engine asks whether to stop, in every flow.
//   - OptIn, Help: START and HELP in the language, active like OptOut.
//   - Polite: words allowed around a keyword ("please", "por favor").
//   - Yes, No: answers to the confirm question. A Yes confirms the stop, a
//     No keeps everything as it was; neither is ever an opt-in.
//   - ConfirmStop, StopDeclined: the question and the answer to a No, with
//     {business} for the business's display name. They say STOP, which is
//     active in every flow (and lint insists on it).
//
// A word in two kinds of one language, or an Unsure or Phrases entry that
// is some language's OptOut word, is a mistake TestDefaultKeywordLists
// catches.
type languageDefaults struct {
	OptOut, Phrases, Unsure   []string
	OptIn, Help, Polite       []string
	Yes, No                   []string
	ConfirmStop, StopDeclined string
}

// shippedLanguages is the order in which a phrase listed by several
// languages takes its language (STOP is English; BASTA Spanish).
var shippedLanguages = []string{"en", "es", "fr", "pt", "de", "it", "ar", "hi", "id", "zh", "ja", "ru", "tr"}

// defaults are the engine's lists, by language.
var defaults = map[string]languageDefaults{
	"en": {
		OptOut: []string{"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT"},
		Phrases: []string{
			"unsubscribe me", "unsubscribe me from this", "unsubscribe me from your list", "unsubscribe me from all",
			"unsubscribe from all", "unsubscribe all", "i want to unsubscribe", "i would like to unsubscribe", "id like to unsubscribe",
			"i want to opt out", "opt me out", "unsuscribe", "unsubcribe", "unsubscibe", "unsubsribe", "unsubscrib", "unsuscribe me",
			"stop sending me messages", "stop sending messages", "stop sending me these messages", "stop sending me this",
			"stop sending me texts", "stop sending me whatsapp messages", "stop sending", "stop sending me",
			"stop messaging me", "stop texting me", "stop contacting me", "stop spamming me", "stop the messages",
			"stop these messages", "stop all messages", "stop all the messages", "stop messages", "stop whatsapp messages",
			"stop all whatsapp messages", "stop spam", "stop the spam",
			"remove me", "remove me from your list", "remove me from the list", "remove me from this list",
			"remove me from your mailing list", "remove my number", "delete my number", "take me off your list",
			"take me off the list", "take me off this list",
			"no more messages", "no more texts", "no more whatsapp messages", "no more spam",
			"dont send me messages", "dont send me any more messages", "dont send me anymore messages", "dont message me",
			"dont text me", "dont contact me", "do not send me messages", "do not message me", "do not text me",
			"do not contact me", "i dont want any more messages", "i dont want these messages", "i dont want your messages",
			"i do not want any more messages", "i dont want messages", "i dont want to receive messages",
			"enough messages", "enough with the messages", "cancel messages", "cancel all messages", "cancel the messages",
		},
		Unsure: []string{
			"stop it", "stop this", "stop that", "enough", "thats enough", "enough already", "no more", "leave me alone",
			"go away", "spam", "cancel my subscription", "cancel subscription", "cancel all", "unsubscribed",
			"how do i unsubscribe", "how to unsubscribe", "how can i unsubscribe", "how do i stop these messages",
			"block", "ill block you", "pause messages", "mute", "halt",
		},
		OptIn:  []string{"START", "UNSTOP"},
		Help:   []string{"HELP", "INFO"},
		Polite: []string{"please", "thanks", "thank you", "now", "pls"},
		Yes: []string{"yes", "y", "yeah", "yep", "yup", "ya", "ok", "okay", "k", "sure", "confirm", "confirmed", "correct",
			"i do", "please do", "do it", "absolutely", "definitely", "of course"},
		No: []string{"no", "n", "nope", "nah", "no thanks", "not now", "dont stop", "do not stop", "dont", "keep",
			"keep them", "keep sending", "keep it", "continue", "wait", "never mind", "nevermind", "mistake", "by mistake"},
		ConfirmStop:  "Do you want to stop messages from {business} on WhatsApp? Reply STOP to confirm.",
		StopDeclined: "OK, nothing has changed. Reply STOP at any time to stop messages from {business} on WhatsApp.",
	},
	"es": {
		OptOut: []string{"ALTO", "PARAR", "BAJA", "CANCELAR"},
		Phrases: []string{
			"darme de baja", "dame de baja", "dar de baja", "darse de baja", "quiero darme de baja", "quiero la baja",
			"quiero dar de baja", "denme de baja", "desuscribirme", "desuscribir", "quiero desuscribirme", "desuscribeme",
			"no quiero mas mensajes", "no quiero recibir mas mensajes", "no quiero recibir mensajes", "no quiero mensajes",
			"no me envies mas mensajes", "no me envien mas mensajes", "no me mandes mas mensajes", "no me manden mas mensajes",
			"no me escribas mas", "no me escriban mas", "no mas mensajes", "basta de mensajes", "basta ya de mensajes",
			"deja de enviarme mensajes", "dejen de enviarme mensajes", "deja de mandarme mensajes", "dejen de mandarme mensajes",
			"deja de escribirme", "dejen de escribirme", "dejar de recibir mensajes", "quiero dejar de recibir mensajes",
			"eliminarme de la lista", "eliminame de la lista", "borrame de la lista", "sacame de la lista", "quitame de la lista",
			"eliminar mi numero", "borrar mi numero", "parar mensajes", "parar los mensajes", "detener mensajes",
			"detener los mensajes", "cancelar mensajes", "cancelar los mensajes",
		},
		Unsure: []string{"basta", "ya basta", "no mas", "para", "para ya", "detente", "detener", "dejame en paz",
			"cancelar suscripcion", "cancelar mi suscripcion", "como me doy de baja"},
		OptIn:  []string{"START", "UNSTOP", "REANUDAR"},
		Help:   []string{"AYUDA"},
		Polite: []string{"por favor", "gracias"},
		Yes: []string{"si", "sip", "vale", "claro", "de acuerdo", "ok", "okey", "confirmo", "correcto", "por supuesto",
			"si por favor", "dale"},
		No:           []string{"no", "no gracias", "no pares", "no parar", "continuar", "sigue", "seguir", "ahora no"},
		ConfirmStop:  "¿Quieres dejar de recibir mensajes de {business} en WhatsApp? Responde STOP para confirmar.",
		StopDeclined: "De acuerdo, no ha cambiado nada. Responde STOP en cualquier momento para dejar de recibir mensajes de {business} en WhatsApp.",
	},
	"fr": {
		OptOut: []string{"ARRET", "ARRÊT", "STOP", "DESABONNER"},
		Phrases: []string{
			"se desabonner", "me desabonner", "desabonnez moi", "desabonne moi", "je veux me desabonner",
			"je souhaite me desabonner", "je voudrais me desabonner", "desinscrivez moi", "desinscris moi",
			"me desinscrire", "se desinscrire", "je veux me desinscrire", "desabonnement", "desinscription",
			"arretez de menvoyer des messages", "arrete de menvoyer des messages", "arretez les messages",
			"arreter les messages", "stop aux messages", "je ne veux plus de messages", "je ne veux plus recevoir de messages",
			"ne menvoyez plus de messages", "ne menvoyez plus rien", "ne plus recevoir de messages",
			"retirez moi de la liste", "retirez moi de votre liste", "supprimez mon numero", "supprimez moi de la liste",
		},
		Unsure: []string{"arreter", "arrete", "arretez", "ca suffit", "assez", "plus de messages", "laissez moi tranquille",
			"fichez moi la paix", "annuler", "annuler mon abonnement", "resilier", "comment me desabonner"},
		OptIn:  []string{"START", "UNSTOP", "REPRENDRE"},
		Help:   []string{"AIDE"},
		Polite: []string{"merci", "s'il vous plait", "svp"},
		Yes: []string{"oui", "ouais", "ok", "daccord", "oui svp", "confirmer", "je confirme", "bien sur", "exactement",
			"tout a fait", "volontiers"},
		No:           []string{"non", "non merci", "ne pas arreter", "narretez pas", "continuer", "pas maintenant"},
		ConfirmStop:  "Voulez-vous ne plus recevoir de messages de {business} sur WhatsApp ? Répondez STOP pour confirmer.",
		StopDeclined: "D'accord, rien n'a changé. Répondez STOP à tout moment pour ne plus recevoir de messages de {business} sur WhatsApp.",
	},
	"pt": {
		OptOut: []string{"PARAR", "SAIR", "CANCELAR"},
		Phrases: []string{
			"quero sair", "quero sair da lista", "me tire da lista", "me tira da lista", "tire meu numero",
			"tire meu numero da lista", "remover meu numero", "remova meu numero", "me remova", "me remova da lista",
			"descadastrar", "me descadastre", "me descadastra", "quero me descadastrar", "descadastrar meu numero",
			"nao quero mais mensagens", "nao quero receber mensagens", "nao quero mais receber mensagens",
			"parem de me enviar mensagens", "pare de me enviar mensagens", "pare de mandar mensagens",
			"parem de mandar mensagens", "para de mandar mensagem", "parem de mandar mensagem", "nao me envie mais mensagens",
			"nao me mande mais mensagens", "nao mande mais mensagens", "chega de mensagens", "cancelar mensagens",
			"cancelar o envio de mensagens", "sair da lista",
		},
		Unsure: []string{"chega", "pare", "para", "nao quero mais", "cancelar inscricao", "cancelar assinatura",
			"me deixe em paz", "me deixa em paz", "como faco para sair"},
		OptIn:  []string{"START", "UNSTOP", "RETOMAR"},
		Help:   []string{"AJUDA"},
		Polite: []string{"por favor", "obrigado", "obrigada"},
		Yes: []string{"sim", "s", "ok", "claro", "pode ser", "pode", "confirmo", "isso", "isso mesmo", "certo",
			"com certeza"},
		No:           []string{"nao", "nao obrigado", "nao obrigada", "nao pare", "continuar", "agora nao"},
		ConfirmStop:  "Quer deixar de receber mensagens de {business} no WhatsApp? Responda STOP para confirmar.",
		StopDeclined: "Tudo bem, nada mudou. Responda STOP a qualquer momento para deixar de receber mensagens de {business} no WhatsApp.",
	},
	"de": {
		OptOut: []string{"STOPP", "ABMELDEN", "ABBESTELLEN", "AUSTRAGEN"},
		Phrases: []string{
			"melden sie mich ab", "meldet mich ab", "melde mich ab", "mich abmelden",
			"ich mochte mich abmelden", "ich will mich abmelden", "tragen sie mich aus",
			"keine nachrichten mehr", "keine weiteren nachrichten", "ich mochte keine nachrichten mehr",
			"ich will keine nachrichten mehr", "ich mochte keine nachrichten", "hort auf mir zu schreiben",
			"horen sie auf mir zu schreiben", "schreibt mir nicht mehr", "schreiben sie mir nicht mehr",
			"keine whatsapp nachrichten mehr", "nachrichten abbestellen", "newsletter abbestellen", "abmeldung",
			"loschen sie meine nummer",
		},
		Unsure: []string{"hor auf", "horen sie auf", "aufhoren", "genug", "es reicht", "ende", "lasst mich in ruhe",
			"lassen sie mich in ruhe", "kundigen", "wie kann ich mich abmelden"},
		OptIn:  []string{"START", "UNSTOP", "FORTSETZEN"},
		Help:   []string{"HILFE"},
		Polite: []string{"bitte", "danke", "danke schon", "vielen dank"},
		Yes: []string{"ja", "jawohl", "ja bitte", "ok", "okay", "genau", "bestatigen", "ich bestatige", "richtig",
			"klar", "gerne"},
		No:           []string{"nein", "nein danke", "nicht stoppen", "weiter", "nicht abmelden"},
		ConfirmStop:  "Möchten Sie keine Nachrichten mehr von {business} auf WhatsApp erhalten? Antworten Sie STOP, um dies zu bestätigen.",
		StopDeclined: "In Ordnung, es hat sich nichts geändert. Antworten Sie jederzeit STOP, um keine Nachrichten mehr von {business} auf WhatsApp zu erhalten.",
	},
	"it": {
		OptOut: []string{"DISISCRIVIMI", "DISISCRIVERMI", "CANCELLAMI"},
		Phrases: []string{
			"annulla iscrizione", "cancella iscrizione", "annullare liscrizione", "cancellami dalla lista",
			"toglimi dalla lista", "rimuovimi dalla lista", "rimuovete il mio numero", "cancellate il mio numero",
			"non voglio piu messaggi", "non voglio ricevere messaggi", "non voglio piu ricevere messaggi",
			"non mandatemi piu messaggi", "non inviatemi piu messaggi", "non mandarmi piu messaggi",
			"smettete di inviarmi messaggi", "smettetela di scrivermi", "smettete di scrivermi", "basta messaggi",
			"basta con i messaggi", "niente piu messaggi", "voglio disiscrivermi", "disiscrizione",
		},
		Unsure: []string{"basta", "basta cosi", "smettila", "smettetela", "cancella", "lasciatemi in pace",
			"come mi disiscrivo"},
		OptIn:  []string{"START", "UNSTOP", "RIPRENDI"},
		Help:   []string{"AIUTO"},
		Polite: []string{"per favore", "perfavore", "grazie"},
		Yes: []string{"si", "ok", "va bene", "certo", "confermo", "esatto", "si grazie", "daccordo",
			"certamente"},
		No:           []string{"no", "no grazie", "continua", "non fermare", "non ora"},
		ConfirmStop:  "Vuoi smettere di ricevere messaggi da {business} su WhatsApp? Rispondi STOP per confermare.",
		StopDeclined: "Va bene, non è cambiato nulla. Rispondi STOP in qualsiasi momento per non ricevere più messaggi da {business} su WhatsApp.",
	},
	"ar": {
		OptOut: []string{"توقف", "إيقاف"},
		Phrases: []string{
			"إلغاء الاشتراك", "الغاء الاشتراك", "ألغ الاشتراك", "أوقف الرسائل", "إيقاف الرسائل", "توقف عن إرسال الرسائل",
			"توقفوا عن إرسال الرسائل", "لا أريد رسائل", "لا أريد رسائل بعد الآن", "لا أريد استقبال رسائل",
			"لا ترسل لي رسائل", "لا ترسلوا لي رسائل", "لا ترسل لي", "احذف رقمي", "أزيلوا رقمي", "إزالة رقمي",
		},
		Unsure:       []string{"إلغاء", "كفى", "كفاية", "لا أريد", "اتركني", "اتركوني"},
		OptIn:        []string{"START", "UNSTOP", "استئناف"},
		Help:         []string{"مساعدة", "مساعده"},
		Polite:       []string{"من فضلك", "لو سمحت", "شكرا", "شكرًا", "رجاء"},
		Yes:          []string{"نعم", "أيوه", "ايوا", "أجل", "تمام", "موافق", "أكيد", "اي", "ok"},
		No:           []string{"لا", "لا شكرا", "كلا", "استمر"},
		ConfirmStop:  "هل تريد إيقاف الرسائل من {business} على WhatsApp؟ أرسل STOP للتأكيد.",
		StopDeclined: "حسنًا، لم يتغير شيء. أرسل STOP في أي وقت لإيقاف رسائل {business} على WhatsApp.",
	},
	"hi": {
		OptOut: []string{"रोकें", "रोको"},
		Phrases: []string{
			"सदस्यता रद्द करें", "सदस्यता रद्द करो", "सदस्यता समाप्त करें", "मैसेज बंद करो", "मैसेज बंद करें",
			"मैसेज मत भेजो", "मैसेज मत भेजिए", "मुझे मैसेज मत भेजो", "संदेश बंद करें", "संदेश मत भेजो", "संदेश मत भेजें",
			"message mat bhejo", "messages mat bhejo", "msg mat bhejo", "mujhe message mat bhejo", "message band karo",
			"messages band karo", "msg band karo", "message band kar do", "unsubscribe karo", "unsubscribe kar do",
			"mujhe message nahi chahiye", "message nahi chahiye", "मुझे मैसेज नहीं चाहिए",
		},
		Unsure: []string{"बंद", "बंद करो", "बंद करें", "बस", "बस करो", "band karo", "band kar do", "bas karo", "rok do",
			"mat bhejo", "मत भेजो"},
		OptIn:        []string{"START", "UNSTOP", "फिर से शुरू करें", "phir se shuru karo"},
		Help:         []string{"मदद", "सहायता", "madad"},
		Polite:       []string{"कृपया", "धन्यवाद", "शुक्रिया", "kripya", "dhanyavaad", "shukriya", "plz", "ji"},
		Yes:          []string{"हाँ", "हां", "जी", "जी हाँ", "ठीक है", "haan", "han", "haa", "ji haan", "theek hai", "thik hai", "ok"},
		No:           []string{"नहीं", "नही", "nahi", "nahin", "na", "नहीं धन्यवाद", "mat roko"},
		ConfirmStop:  "क्या आप WhatsApp पर {business} के संदेश बंद करना चाहते हैं? पुष्टि के लिए STOP लिखें।",
		StopDeclined: "ठीक है, कुछ नहीं बदला। WhatsApp पर {business} के संदेश बंद करने के लिए कभी भी STOP लिखें।",
	},
	"id": {
		OptOut: []string{"BERHENTI", "UNREG"},
		Phrases: []string{
			"berhenti berlangganan", "stop berlangganan", "jangan kirim pesan lagi", "jangan kirim pesan",
			"jangan kirimi saya pesan", "jangan kirim saya pesan lagi", "saya tidak mau pesan lagi",
			"saya tidak mau menerima pesan", "tidak mau terima pesan", "hapus nomor saya", "keluarkan saya dari daftar",
			"berhenti kirim pesan", "stop kirim pesan", "unreg semua", "berhenti mengirim pesan", "berhenti langganan",
		},
		Unsure:       []string{"cukup", "sudah cukup", "batal", "jangan ganggu", "jangan ganggu saya"},
		OptIn:        []string{"START", "UNSTOP", "MULAI LAGI"},
		Help:         []string{"BANTUAN"},
		Polite:       []string{"tolong", "mohon", "terima kasih", "makasih", "dong"},
		Yes:          []string{"ya", "iya", "ok", "oke", "baik", "betul", "benar", "setuju", "yoi"},
		No:           []string{"tidak", "nggak", "gak", "enggak", "tidak usah", "jangan berhenti", "lanjut"},
		ConfirmStop:  "Apakah Anda ingin berhenti menerima pesan dari {business} di WhatsApp? Balas STOP untuk konfirmasi.",
		StopDeclined: "Baik, tidak ada yang berubah. Balas STOP kapan saja untuk berhenti menerima pesan dari {business} di WhatsApp.",
	},
	"zh": {
		OptOut: []string{"退订", "退訂", "停止", "TD"},
		Phrases: []string{
			"取消订阅", "取消訂閱", "我要退订", "我要退訂", "请退订", "請退訂", "退订消息", "退訂消息", "退订所有",
			"不要再发了", "不要再發了", "不要再发消息", "不要再發消息", "别再发了", "別再發了", "别发了", "別發了",
			"停止发送", "停止發送", "停止发送消息", "停止發送消息", "不要发消息给我", "不要發消息給我", "不想收到消息",
			"我不想再收到消息", "拒收", "拒收消息",
		},
		Unsure:       []string{"取消", "够了", "夠了", "停", "不要了", "别烦我", "別煩我"},
		OptIn:        []string{"START", "UNSTOP", "恢复订阅", "恢復訂閱", "重新订阅", "重新訂閱"},
		Help:         []string{"帮助", "幫助"},
		Polite:       []string{"谢谢", "謝謝", "请", "請", "麻烦", "麻煩"},
		Yes:          []string{"是", "是的", "好", "好的", "对", "對", "确认", "確認", "嗯", "可以", "ok"},
		No:           []string{"不", "不是", "不要", "不用", "否", "继续", "繼續"},
		ConfirmStop:  "您想停止接收 {business} 的 WhatsApp 消息吗？回复 STOP 确认。",
		StopDeclined: "好的，没有任何变化。如需停止接收 {business} 的 WhatsApp 消息，可随时回复 STOP。",
	},
	"ja": {
		OptOut: []string{"配信停止", "停止", "ストップ"},
		Phrases: []string{
			"配信停止してください", "配信を停止してください", "配信解除", "配信解除してください", "登録解除",
			"登録解除してください", "配信不要", "メッセージ不要", "メッセージを送らないでください", "送らないでください",
			"もう送らないで", "もう送らないでください", "メッセージ停止", "受信拒否", "配信停止希望",
		},
		Unsure:       []string{"やめて", "やめてください", "止めて", "解除", "退会", "もういい"},
		OptIn:        []string{"START", "UNSTOP", "配信再開", "再開"},
		Help:         []string{"ヘルプ"},
		Polite:       []string{"ください", "お願いします", "ありがとう", "ありがとうございます"},
		Yes:          []string{"はい", "ええ", "うん", "お願いします", "確認", "そうです", "ok"},
		No:           []string{"いいえ", "いや", "違います", "続けて", "続ける"},
		ConfirmStop:  "WhatsAppでの{business}からのメッセージを停止しますか？確認のためSTOPと返信してください。",
		StopDeclined: "承知しました。変更はありません。WhatsAppでの{business}からのメッセージは、いつでもSTOPと返信すると停止できます。",
	},
	"ru": {
		OptOut: []string{"СТОП", "ОТПИСАТЬСЯ", "ОТПИСКА"},
		Phrases: []string{
			"отпишите меня", "хочу отписаться", "отписаться от рассылки", "не присылайте мне сообщения",
			"не присылайте сообщения", "больше не присылайте", "больше не присылайте сообщения", "не пишите мне",
			"больше не пишите", "больше не пишите мне", "не отправляйте мне сообщения", "прекратите присылать сообщения",
			"прекратите рассылку", "удалите мой номер", "удалите меня из списка", "не нужны сообщения",
		},
		Unsure: []string{"хватит", "прекратите", "достаточно", "отмена", "отменить", "оставьте меня в покое",
			"как отписаться"},
		OptIn:        []string{"START", "UNSTOP", "СТАРТ", "ВОЗОБНОВИТЬ"},
		Help:         []string{"ПОМОЩЬ", "СПРАВКА"},
		Polite:       []string{"пожалуйста", "спасибо", "плиз"},
		Yes:          []string{"да", "ага", "конечно", "ок", "подтверждаю", "да пожалуйста", "ok"},
		No:           []string{"нет", "нет спасибо", "не надо", "не нужно", "продолжайте"},
		ConfirmStop:  "Вы хотите перестать получать сообщения от {business} в WhatsApp? Ответьте STOP для подтверждения.",
		StopDeclined: "Хорошо, ничего не изменилось. Чтобы перестать получать сообщения от {business} в WhatsApp, ответьте STOP в любое время.",
	},
	"tr": {
		OptOut: []string{"İPTAL", "RET"},
		Phrases: []string{
			"abonelikten çık", "abonelikten çıkar", "abonelikten çıkmak istiyorum", "aboneliğimi iptal et",
			"mesaj gönderme", "mesaj göndermeyin", "bana mesaj gönderme", "bana mesaj göndermeyin", "bana mesaj atma",
			"mesaj istemiyorum", "artık mesaj istemiyorum", "mesaj almak istemiyorum", "beni listeden çıkarın",
			"beni listeden çıkar", "listeden çıkar", "numaramı sil", "numaramı silin",
		},
		Unsure:       []string{"dur", "yeter", "iptal et", "vazgeç", "rahatsız etmeyin", "beni rahat bırakın"},
		OptIn:        []string{"START", "UNSTOP", "TEKRAR BAŞLA"},
		Help:         []string{"yardım"}, // lower case with ı: YARDIM and yardım both match
		Polite:       []string{"lütfen", "teşekkürler", "teşekkür ederim", "sağol", "sağolun"},
		Yes:          []string{"evet", "tamam", "olur", "onaylıyorum", "onayla", "ok"},
		No:           []string{"hayır", "yok", "devam", "devam et", "durma"},
		ConfirmStop:  "WhatsApp'ta {business} mesajlarını durdurmak istiyor musunuz? Onaylamak için STOP yazın.",
		StopDeclined: "Tamam, hiçbir şey değişmedi. WhatsApp'ta {business} mesajlarını durdurmak için istediğiniz zaman STOP yazın.",
	},
}

// stopEmoji are the symbols that, sent alone (or with polite words only),
// look like an opt-out: 🛑 ⛔ 🚫 🔕 📵. They are Unsure: "🚫" may answer
// "any allergies?".
var stopEmoji = []rune{'\U0001F6D1', '\u26D4', '\U0001F6AB', '\U0001F515', '\U0001F4F5'}

// keywordSet returns a language's defaults as the flows package's lists.
func (d languageDefaults) keywordSet() flows.KeywordSet {
	return flows.KeywordSet{OptOut: d.OptOut, OptIn: d.OptIn, Help: d.Help, Polite: d.Polite}
}
