"""The words of the team's own outputs, per team language (policy ``team.language``: en, fr).

Every phrase of the reasons (:mod:`workbench.reasons`), the history and action labels
(:mod:`workbench.recommend`), the risk reasons (:mod:`workbench.explain`), the worklist texts
(:mod:`workbench.worklist`) and the export titles (:mod:`workbench.export`) is defined here once
per language, under the same key in every language. Templates name their parts in braces
(``{amount}``) and are filled by :func:`workbench.wording.phrase`; a template may leave out a
part another language uses (the English ``{n} days late`` and the French ``{n_days} de
retard``, where ``n_days`` is the counted noun). The message drafts sent to customers have
their own templates (:mod:`workbench.drafts`, in the customer's language).

The French is written for collectors and credit managers (notes, not letters): "36 jours de
retard sur 2 factures", "mise en demeure envoyée le 19/11/2026, échéance le 01/12/2026".
"""

from __future__ import annotations

SINGULAR = {"en": (1,), "fr": (0, 1)}
"""Counts that take the singular (CLDR plural rule ``one``: French says "0 facture")."""

NOUNS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "invoice": ("invoice", "invoices"),
        "day": ("day", "days"),
        "message": ("message", "messages"),
        "broken_promise": ("promise broken", "promises broken"),
        "missed_instalment": ("instalment", "instalments"),
        "other_invoice": (
            "other invoice follows its own cadence", "other invoices follow their own cadence"
        ),
        "promise_to_pay_broken": ("promise to pay broken", "promises to pay broken"),
        "plan_instalment": ("payment-plan instalment", "payment-plan instalments"),
        "open_dispute": ("open dispute", "open disputes"),
    },
    "fr": {
        "invoice": ("facture", "factures"),
        "day": ("jour", "jours"),
        "message": ("message", "messages"),
        "broken_promise": ("promesse non tenue", "promesses non tenues"),
        "missed_instalment": (
            "échéance du plan de paiement impayée", "échéances du plan de paiement impayées"
        ),
        "other_invoice": (
            "autre facture suit son propre calendrier de relance",
            "autres factures suivent leur propre calendrier de relance",
        ),
        "promise_to_pay_broken": (
            "promesse de paiement non tenue", "promesses de paiement non tenues"
        ),
        "plan_instalment": (
            "échéance du plan de paiement impayée", "échéances du plan de paiement impayées"
        ),
        "open_dispute": ("litige en cours", "litiges en cours"),
    },
}  # fmt: skip
"""Counted nouns (:func:`workbench.wording.counted`): (singular, plural) per language."""

SEGMENT_WORDS = {
    "en": {
        "reliable": "usually pays on time: probably an oversight",
        "occasional": "sometimes late: probably an oversight",
        "chronic_late": "pays late habitually",
        "deteriorating": "paying later lately: watch closely",
        "in_difficulty": "payment difficulties: listen and offer a plan",
        "disputing": "often disputes invoices",
        "new": "new customer",
    },
    "fr": {
        "reliable": "paie habituellement à l'heure : sans doute un oubli",
        "occasional": "parfois en retard : sans doute un oubli",
        "chronic_late": "paie habituellement en retard",
        "deteriorating": "paie de plus en plus tard : à surveiller de près",
        "in_difficulty": "difficultés de paiement : écouter et proposer un échéancier",
        "disputing": "conteste souvent ses factures",
        "new": "nouveau client",
    },
}
"""How a reason describes each behaviour segment."""

SEGMENT_NAMES = {
    "en": {},
    "fr": {
        "reliable": "fiable", "occasional": "retards occasionnels",
        "chronic_late": "retards chroniques", "deteriorating": "en dégradation",
        "in_difficulty": "en difficulté", "disputing": "conteste souvent", "new": "nouveau",
    },
}  # fmt: skip
"""Short names of the behaviour segments in exports (English: the codes themselves)."""

STEP_WORDS = {
    "en": {
        "pre_due": "preventive reminder", "light_reminder": "light reminder",
        "personal_contact": "personal contact", "solution_offer": "payment plan offer",
        "last_notice": "last amicable notice", "formal_notice": "formal notice",
        "hand-over": "hand-over", "agency": "agency", "legal": "legal proceedings",
        "write_off_review": "write-off review", "small_balance_review": "small-balance review",
        "resolve_dispute": "dispute resolution", "thank_you": "thank-you",
    },
    "fr": {
        "pre_due": "rappel préventif", "light_reminder": "relance courtoise",
        "personal_contact": "contact personnel", "solution_offer": "proposition d'échéancier",
        "last_notice": "dernière relance amiable", "formal_notice": "mise en demeure",
        "hand-over": "transmission", "agency": "transmission au cabinet de recouvrement",
        "legal": "procédure judiciaire", "write_off_review": "revue de passage en perte",
        "small_balance_review": "revue de petit solde", "resolve_dispute": "résolution du litige",
        "thank_you": "remerciement",
        "reconcile unapplied cash": "lettrage de l'encaissement non affecté",
        "offset the customer credit": "imputation du crédit client",
        "review with the agency": "point avec le cabinet de recouvrement",
    },
}  # fmt: skip
"""Steps (and the other next steps of excluded customers) in words; a step missing from a
table is shown as its code (the English next steps are words already)."""

CHANNEL_WORDS = {
    "en": {"registered_letter": "registered letter"},
    "fr": {
        "email": "e-mail", "sms": "SMS", "phone": "téléphone", "letter": "courrier",
        "registered_letter": "lettre recommandée", "agency": "cabinet de recouvrement",
        "legal": "contentieux", "none": "interne",
    },
}  # fmt: skip
"""Channels in words (a channel missing from a table is shown as its code)."""

TONE_WORDS = {
    "en": {},
    "fr": {"friendly": "cordial", "neutral": "neutre", "firm": "ferme", "formal": "formel"},
}
"""Tones in words (English: the codes)."""

EXCLUSION_WORDS = {
    "en": {},
    "fr": {
        "formal notice sent": "mise en demeure envoyée",
        "contacted recently": "contacté récemment",
        "capped": "plafond de contacts atteint",
        "in conversation": "échange en cours",
        "same message sent": "même message déjà envoyé",
        "waiting for the next step": "en attente de l'étape suivante",
        "promise pending": "promesse en cours",
        "plan on track": "échéancier respecté",
        "customer credit to offset": "crédit client à imputer",
        "unapplied cash to reconcile": "encaissement non lettré à rapprocher",
        "handed over": "transmis au recouvrement",
        "not yet due and no risk": "non échu et sans risque",
        "next contact planned": "prochain contact prévu",
    },
}
"""Why a customer gets no action, in words (English: the codes, which are words)."""

OUTCOME_WORDS = {
    "en": {},
    "fr": {
        "sent": "envoyé", "reached": "client joint", "no_answer": "pas de réponse",
        "left_message": "message laissé", "promise_to_pay": "promesse de paiement",
        "handed_over": "transmis", "plan_agreed": "échéancier convenu",
        "dispute_raised": "litige signalé",
    },
}  # fmt: skip
"""Contact outcomes in words (codes of the contacts table; others are shown as given)."""

CONVERSATION_WORDS = {
    "en": {},
    "fr": {
        "reached": "échange avec le client", "promise to pay": "promesse de paiement",
        "plan agreed": "échéancier convenu", "dispute raised": "litige signalé",
        "promise made": "promesse de paiement",
    },
}  # fmt: skip
"""Kinds of conversation (:func:`workbench.dunning.conversations`) in words."""

DISPUTE_WORDS = {
    "en": {},
    "fr": {
        "quality": "qualité", "billing_error": "erreur de facturation",
        "billing error": "erreur de facturation", "delivery": "livraison", "price": "prix",
        "other": "autre",
    },
}  # fmt: skip
"""Dispute reasons in words (English: the code with spaces; others are shown as given)."""

PROMISE_STATUS_WORDS = {
    "en": {},
    "fr": {"pending": "en cours", "kept": "tenue", "broken": "non tenue",
           "replaced by a plan": "remplacée par un échéancier"},
}
"""Statuses of a promise in words."""

COLLECTOR_WORDS = {"en": {}, "fr": {"unassigned": "non attribué"}}
"""The collector of customers without one (``unassigned``) in words; collectors' names are
shown as they are."""

BAND_WORDS = {
    "en": {},
    "fr": {"low": "faible", "medium": "moyen", "high": "élevé", "small": "petit",
           "large": "grand"},
}  # fmt: skip
"""Risk and value bands of the priority matrix in words."""

ACTION_LABELS = {
    "en": {
        "pre_due": "preventive reminder",
        "light_reminder": "light reminder",
        "personal_contact": "personal contact",
        "solution_offer": "offer a payment plan or a new date",
        "last_notice": "last amicable notice",
        "formal_notice": "formal notice",
        "agency": "hand over to a collection agency",
        "legal": "start legal proceedings (injunction to pay)",
        "write_off_review": "propose a write-off review",
        "small_balance_review": "small balance: review (no dunning)",
        "resolve_dispute": "resolve dispute",
        "thank_you": "thank you",
    },
    "fr": {
        "pre_due": "rappel préventif",
        "light_reminder": "relance courtoise",
        "personal_contact": "contact personnel",
        "solution_offer": "proposer un échéancier ou une nouvelle date",
        "last_notice": "dernière relance amiable",
        "formal_notice": "mise en demeure",
        "agency": "transmettre au cabinet de recouvrement",
        "legal": "engager une procédure judiciaire (injonction de payer)",
        "write_off_review": "proposer une revue de passage en perte",
        "small_balance_review": "petit solde : à examiner (pas de relance)",
        "resolve_dispute": "résoudre le litige",
        "thank_you": "remercier",
    },
}
"""The action (words a collector reads) of each step."""

HISTORY = {
    "en": {
        "formal_notice": "formal notice sent {date}, deadline {deadline}",
        "agency": "handed over ({step}) on {date}",
        "legal": "handed over ({step}) on {date}",
        "*": "{step} sent {date}",
    },
    "fr": {
        "formal_notice": "mise en demeure envoyée le {date}, échéance le {deadline}",
        "agency": "transmis au cabinet de recouvrement le {date}",
        "legal": "transmis au contentieux le {date}",
        "pre_due": "rappel préventif envoyé le {date}",
        "light_reminder": "relance courtoise envoyée le {date}",
        "personal_contact": "contact personnel le {date}",
        "solution_offer": "proposition d'échéancier le {date}",
        "last_notice": "dernière relance amiable envoyée le {date}",
        "*": "{step} le {date}",
    },
}
"""The dunning history by the highest step reached (``*``: any other step)."""

UNANSWERED = {"en": " (call unanswered)", "fr": " (appel sans réponse)"}
"""Said after the history when the step was reached by calls nobody answered."""

REASONS = {
    "en": {
        "segment_chronic": "{words} (on average {n} days late)",
        "segment_trend": "{words} (+{n} days late)",
        "partly_paid": "{invoice} partly paid ({paid} received, last on {last}; {due} still due)",
        "short_payment": "short payment on {invoice}: ask the reason (deduction, dispute?) before "
        "escalating",
        "notice_answered": "{invoice} paid in part since its formal notice: call about the rest "
        "before any hand-over",
        "paid_elsewhere": "paid {amount} in the last {n_days} (last on {date}) against other "
        "invoices, which does not settle these",
        "paid_elsewhere_one": "paid {amount} in the last {n_days} (last on {date}) against "
        "other invoices, which does not settle this one",
        "disputed_part": "{part} contested of {whole}",
        "paid_handed": "paid {amount} in the last {n_days} (last on {date}) on {invoices}, "
        "already handed over: tell the agency or lawyer",
        "list_separator": "; ",
        "disputed": "{invoices} disputed ({amount}): dunning paused, dispute to route to its owner",
        "promised": "{promised} under a promise of {pending}",
        "pay_by": "{amount} by {date}",
        "and": " and ",
        "planned": "{amount} in a payment plan on track",
        "unapplied_cash": "{amount} of unapplied cash to reconcile",
        "cash_set_against": "{amount} set against {cash} of unapplied cash to reconcile",
        "cash_matched": "including a payment equal to the balance of {invoices} to the cent "
        "(probably its payment, to apply to it)",
        "cash_matched_handed": "including a payment equal to the balance of {invoices} to the "
        "cent, an invoice handed over for collection (probably its payment: apply it and tell "
        "the agency or lawyer)",
        "customer_credit": "{credit} of customer credit ({sources}): nothing overdue to set it "
        "against; it covers the next invoices, or refund it",
        "credit_set_against": "{amount} set against {credit} of customer credit ({sources})",
        "credit_source": "{invoice} invoiced {amount}, paid {paid}, credited {credited}: {excess} "
        "beyond its amount",
        "credit_covers": "{credit} of customer credit ({sources}) covers the {amount} overdue: "
        "offset it against them, do not chase",
        "broken": "{promises} since {month}",
        "missed_instalments": "{instalments} of the payment plan missed",
        "plan_arrears": "since {date}, {amount} behind the plan",
        "notice_unanswered": "formal notice of {date} unanswered at its deadline {deadline}",
        "notice_not_settled": "formal notice of {date}: its deadline {deadline} has passed without "
        "full payment",
        "agency_file": "{invoices} already with the agency since {date}: these join its file",
        "handed_apart": "{invoices} handed over for collection since {date} ({amount}): not "
        "chased here, the agency or lawyer holds them",
        "below_agency": "below the {amount} threshold for an agency",
        "difficulty_alone": "customer in payment difficulty",
        "agency_by_total": "{handed} handed over, under the {minimum} threshold, but the customer "
        "owes {total} in all",
        "needs_approval": "strategic account: needs approval before hand-over",
        "too_small": "{amount} too small for a {wanted} (minimum {minimum}): by {channel}",
        "prefers": "prefers {preferred}",
        "prefers_formal": "prefers {preferred} but this step needs a {channel}",
        "prefers_escalated": "prefers {preferred} but the broken commitment calls for contact by "
        "{channel}",
        "overdue": "{days} past due on {invoices} ({amount})",
        "overdue_range": "{low} to {days} past due on {invoices} ({amount})",
        "also_pre_due": "and {invoices} not yet due ({amount}) in the same contact",
        "own_cadence": "{others} ({amount})",
        "strategic": "strategic account: account owner in the loop",
        "dispute": "{invoices} disputed since {date} ({amount}{reasons}): dunning paused, route "
        "to the owner to resolve",
        "dispute_reasons": ": {reasons}",
        "pre_due": "{invoices} ({amount}) due on {date}, {n}% risk of still being unpaid in 30 "
        "days",
        "thank_you": "overdue balance cleared on {date}: thank the customer",
        "small_balance": "only {amount} overdue, below the small-balance threshold of "
        "{threshold}: review it (offset, write off, or add it to the next statement) rather "
        "than dun",
        "next": "next: {step} from {date}",
        "last_message": "last message on {date} by {channel}",
        "notice_sent": "formal notice sent {date}, deadline {deadline}, then {step}",
        "capped": "{messages} in the last {n_days}",
        "conversation": "{kind} on {date}",
        "held": "{step} held",
        "same_message": "the same {step} by {channel} on {date}",
        "promise_pending": "{pending}, covering {promised}",
        "follow_up": "{collector} plans the next contact on {date}",
        "plan_on_track": "payment plan instalments paid as agreed",
        "next_instalment": "next instalment {date}",
        "cash_covers": "{cash} received without an invoice covers the {amount} overdue "
        "(reconcile before chasing)",
        "handed_over": "{invoices} with the agency or legal since {date}",
        "not_due": "{amount} due from {date}",
        "exclusion": "{exclusion}: {detail}",
        "with_shelters": "{reason}; {shelters}",
        "capacity": "{reason}; phone capacity reached: sent by {channel}",
        "invoice_overdue": "{invoice} ({amount} due {date})",
        "invoice_not_due": "{invoice} ({amount} due {date})",
        "promise": "{amount} by {date} ({status})",
        "needs_approval_suffix": " (needs approval: strategic account)",
        "owner_suffix": " (account owner in the loop)",
    },
    "fr": {
        "segment_chronic": "{words} (en moyenne {n_days} de retard)",
        "segment_trend": "{words} (+{n_days} de retard)",
        "partly_paid": "{invoice} réglée en partie (reçu {paid}, dernier paiement le {last} ; "
        "reste dû {due})",
        "short_payment": "paiement incomplet sur {invoice} : en demander la raison (déduction, "
        "litige ?) avant d'aller plus loin",
        "notice_answered": "{invoice} réglée en partie depuis sa mise en demeure : appeler pour le "
        "solde avant toute transmission",
        "paid_elsewhere": "a réglé {amount} au cours des {n} derniers jours (dernier paiement le "
        "{date}) sur d'autres factures, ce qui ne solde pas celles-ci",
        "paid_elsewhere_one": "a réglé {amount} au cours des {n} derniers jours (dernier "
        "paiement le {date}) sur d'autres factures, ce qui ne solde pas celle-ci",
        "disputed_part": "{part} contestés sur {whole}",
        "paid_handed": "a réglé {amount} au cours des {n} derniers jours (dernier paiement le "
        "{date}) sur {invoices}, déjà transmise(s) au recouvrement externe : en informer "
        "l'agence ou l'avocat",
        "list_separator": " ; ",
        "disputed": "{invoices} en litige ({amount}) : relances suspendues, litige à transmettre à "
        "son responsable",
        "promised": "{promised} sous promesse de paiement ({pending})",
        "pay_by": "{amount} pour le {date}",
        "and": " et ",
        "planned": "{amount} dans un échéancier respecté",
        "unapplied_cash": "{amount} d'encaissement non lettré à rapprocher",
        "cash_set_against": "{amount} imputables sur {cash} d'encaissement non lettré à rapprocher",
        "cash_matched": "dont un règlement égal au centime près au solde de {invoices} (sans "
        "doute le sien, à lettrer sur cette facture)",
        "cash_matched_handed": "dont un règlement égal au centime près au solde de {invoices}, "
        "facture confiée au recouvrement externe (sans doute le sien : à lettrer et à signaler "
        "au cabinet ou à l'avocat)",
        "customer_credit": "crédit client de {credit} ({sources}) : aucun impayé à compenser ; à "
        "imputer sur les prochaines factures ou à rembourser",
        "credit_set_against": "{amount} compensés par le crédit client de {credit} ({sources})",
        "credit_source": "{invoice} facturée {amount}, réglée {paid}, avoirs {credited} : {excess} "
        "au-delà de son montant",
        "credit_covers": "le crédit client de {credit} ({sources}) couvre les {amount} échus : "
        "imputer, ne pas relancer",
        "broken": "{promises} depuis {month}",
        "missed_instalments": "{instalments}",
        "plan_arrears": "depuis le {date}, {amount} de retard sur l'échéancier",
        "notice_unanswered": "mise en demeure du {date} restée sans réponse à son échéance du "
        "{deadline}",
        "notice_not_settled": "mise en demeure du {date} : son échéance du {deadline} est passée "
        "sans règlement complet",
        "handed_apart": "{invoices} entre les mains du recouvrement externe depuis le {date} "
        "({amount}) : hors de cette relance, le cabinet ou l'avocat s'en charge",
        "agency_file": "{invoices} déjà au cabinet de recouvrement depuis le {date} : à joindre à "
        "son dossier",
        "below_agency": "sous le seuil de {amount} pour un cabinet de recouvrement",
        "difficulty_alone": "client en difficulté de paiement",
        "agency_by_total": "{handed} transmis, sous le seuil de {minimum}, mais le client doit "
        "{total} au total",
        "needs_approval": "compte stratégique : validation requise avant transmission",
        "too_small": "{amount} trop faible pour un envoi par {wanted} (minimum {minimum}) : envoi "
        "par {channel}",
        "prefers": "canal préféré : {preferred}",
        "prefers_formal": "canal préféré : {preferred}, mais cette étape exige un envoi par "
        "{channel}",
        "prefers_escalated": "canal préféré : {preferred}, mais l'engagement non tenu impose un "
        "contact par {channel}",
        "overdue": "{days} de retard sur {invoices} ({amount})",
        "overdue_range": "{low} à {days} de retard sur {invoices} ({amount})",
        "also_pre_due": "et {invoices} à échoir ({amount}) dans le même contact",
        "own_cadence": "{others} ({amount})",
        "strategic": "compte stratégique : en lien avec le responsable du compte",
        "dispute": "{invoices} en litige depuis le {date} ({amount}{reasons}) : relances "
        "suspendues, à transmettre au responsable pour résolution",
        "dispute_reasons": " : {reasons}",
        "pre_due": "{invoices} ({amount}) à échéance le {date}, risque d'impayé à 30 jours : "
        "{percent}",
        "thank_you": "impayés réglés le {date} : remercier le client",
        "small_balance": "seulement {amount} en retard, sous le seuil des petits soldes "
        "({threshold}) : à examiner (compensation, passage en perte ou report sur le prochain "
        "relevé) plutôt que de relancer",
        "next": "ensuite : {step} à partir du {date}",
        "last_message": "dernier message le {date} par {channel}",
        "notice_sent": "mise en demeure envoyée le {date}, échéance le {deadline}, puis {step}",
        "capped": "{messages} en {n_days}",
        "conversation": "{kind} le {date}",
        "held": "{step} en attente",
        "same_message": "{step} par {channel} le {date}",
        "promise_pending": "{pending}, couvrant {promised}",
        "follow_up": "{collector} prévoit le prochain contact le {date}",
        "plan_on_track": "échéances du plan de paiement réglées comme convenu",
        "next_instalment": "prochaine échéance le {date}",
        "cash_covers": "paiement de {cash} reçu sans référence de facture, qui couvre les "
        "{amount} en retard (ne pas relancer avant lettrage)",
        "handed_over": "{invoices} au cabinet de recouvrement ou au contentieux depuis le {date}",
        "not_due": "{amount} à échoir, première échéance le {date}",
        "exclusion": "{exclusion} : {detail}",
        "with_shelters": "{reason} ; {shelters}",
        "capacity": "{reason} ; capacité d'appels atteinte : envoi par {channel}",
        "invoice_overdue": "{invoice} ({amount} échue le {date})",
        "invoice_not_due": "{invoice} ({amount} à échéance le {date})",
        "promise": "{amount} pour le {date} ({status})",
        "needs_approval_suffix": " (validation requise : compte stratégique)",
        "owner_suffix": " (en lien avec le responsable du compte)",
    },
}
"""The sentences of the reasons, the history, the worklist texts (by key)."""

RISK_REASONS = {
    "en": {
        "broken_promises": "{promises}",
        "missed_instalments": "missed {instalments}",
        "oldest_dpd": "oldest open invoice {n} days past due",
        "severely_late": "paid {late} of {settled} settled invoices more than {severe} days late",
        "late_share": "paid {late} of {settled} settled invoices late",
        "average_late": "average {n} days late{trend}",
        "trend_suffix": ", getting later (+{n} days vs the year before)",
        "getting_later": "getting later: +{n} days late vs the year before",
        "open_disputes": "{disputes}",
        "credit_limit": "at {n} % of the credit limit",
        "no_recent_payment": "no payment for {n} days",
        "partial_payments": "pays in part ({n} % of paid invoices)",
        "new_customer": "new customer ({n} days), little history",
        "separator": "; ",
    },
    "fr": {
        "broken_promises": "{promises}",
        "missed_instalments": "{instalments}",
        "oldest_dpd": "plus ancienne facture ouverte : {n_days} de retard",
        "severely_late": "a réglé {late} des {settled} factures soldées avec plus de "
        "{severe_days} de retard",
        "late_share": "a réglé en retard {late} des {settled} factures soldées",
        "average_late": "en moyenne {n_days} de retard{trend}",
        "trend_suffix": ", de plus en plus tard (+{n_days} par rapport à l'année précédente)",
        "getting_later": "de plus en plus tard : +{n_days} de retard par rapport à l'année "
        "précédente",
        "open_disputes": "{disputes}",
        "credit_limit": "à {percent} du plafond de crédit",
        "no_recent_payment": "aucun paiement depuis {n_days}",
        "partial_payments": "paie en partie ({percent} des factures payées)",
        "new_customer": "nouveau client ({n_days}), peu d'historique",
        "separator": " ; ",
    },
}
"""The risk reasons of :func:`workbench.explain.reason_rules` (by rule name)."""

SUMMARY = {
    "en": {
        "totals": "totals", "by_channel": "actions by channel", "by_tone": "actions by tone",
        "by_action": "actions by action", "by_exclusion": "excluded by reason",
        "capacity": "capacity per collector", "matrix": "priority matrix",
        "as_of": "as of", "currency": "currency",
        "customers": "customers with an open balance", "actions": "actions",
        "thanks": "thank-you messages", "excluded": "excluded", "open_amount": "open amount",
        "at_risk": "amount at risk of the actions",
    },
    "fr": {
        "totals": "totaux", "by_channel": "actions par canal", "by_tone": "actions par ton",
        "by_action": "actions par type", "by_exclusion": "exclus par motif",
        "capacity": "capacité par chargé de recouvrement", "matrix": "matrice de priorité",
        "as_of": "date d'arrêté", "currency": "devise",
        "customers": "clients avec un solde ouvert", "actions": "actions",
        "thanks": "remerciements", "excluded": "exclus", "open_amount": "montant ouvert",
        "at_risk": "montant à risque des actions",
    },
}  # fmt: skip
"""Titles and items of :func:`workbench.worklist.summary_tables`."""

WORKBOOK = {
    "en": {
        "summary": "summary", "watch": "watch list", "excluded": "excluded",
        "title": "Collections worklist as of {date}", "heading": "Worklist as of {date}",
    },
    "fr": {
        "summary": "synthèse", "watch": "à surveiller", "excluded": "exclus",
        "title": "Liste des actions de recouvrement au {date}",
        "heading": "Liste des actions au {date}",
    },
}  # fmt: skip
"""Sheet names and titles of the worklist workbook (:mod:`workbench.export`)."""

KPI_LABELS = {
    "en": {
        "as_of": "As of", "total_ar": "Total AR", "overdue_ar": "Overdue AR",
        "open_invoices": "Open invoices", "customers": "Customers with a balance",
        "ageing": "  ageing {bucket}", "not_due": "not yet due", "over": "over {days}",
        "dso_standard": "DSO (standard, {period} days)", "dso_countback": "DSO (countback)",
        "best_dso": "Best possible DSO", "add": "Average days delinquent",
        "cei": "CEI ({period} days)", "days": "{value} days", "percent": "{value} %",
        "na": "n/a",
    },
    "fr": {
        "as_of": "Date d'arrêté", "total_ar": "Encours clients", "overdue_ar": "Encours échu",
        "open_invoices": "Factures ouvertes", "customers": "Clients avec un solde",
        "ageing": "  balance âgée : {bucket}", "not_due": "non échu", "over": "plus de {days}",
        "dso_standard": "DSO (standard, {period} jours)",
        "dso_countback": "DSO (méthode par épuisement)", "best_dso": "Meilleur DSO possible",
        "add": "Retard moyen de paiement (ADD)", "cei": "CEI ({period} jours)",
        "days": "{value} jours", "percent": "{value}\u00a0%", "na": "n.d.",
    },
}  # fmt: skip
"""Labels of the KPI table printed by ``workbench kpis`` (:func:`workbench.cli.kpi_table`)."""
