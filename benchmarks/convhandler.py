"""The "after sending" triage as a developer would write it without kakekomi's engine.

python-telegram-bot's ConversationHandler, one callback per state, answers kept in
``user_data``, and PicklePersistence (a pickle file, flushed every ``update_interval``
= 60 s by default, and on stop). Modelled on flows/after_sending.yaml: danger now, age,
what is happening (multi-select), the "do not" list, evidence checklist, when it
started (typed), block and report, police, and the plan.

Button presses are answered and the message is edited in place (the usual PTB
pattern); typed answers get a new message; anything a state does not expect gets a
"please use the buttons" reply (a fallback), so every step answers the person.
"""

from __future__ import annotations

from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)
from telegram.request import BaseRequest

(DANGER, DANGER_NOW, AGE, HAPPENING, DONT, EVIDENCE, WHEN, BLOCK, POLICE, PLAN) = range(10)

HAPPENING_ITEMS = {
    "threat": "They threaten to post it", "paid": "I already paid",
    "video_call": "It was a video call", "posted": "It has been posted",
    "app_link": "I installed an app / opened a link",
    "other_minor": "The other person may be under 18",
    "worried": "Nothing yet, I'm worried",
}
EVIDENCE_ITEMS = {
    "profile": "Screenshot their profile and ID", "messages": "Screenshot the messages",
    "payment": "Keep payment records", "urls": "Note the URLs where it was posted",
}
DONT_TEXT = (
    "Please do not:\n- pay or send more money\n- send more images\n- delete the chat yet\n"
    "- argue or threaten back\nPaying rarely ends it; it usually leads to more demands."
)


def _keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows])


def _ticked(items: dict[str, str], chosen: list[str], prefix: str, done: str):
    rows = [[(("✅ " if key in chosen else "⬜ ") + label, f"{prefix}:{key}")]
            for key, label in items.items()]
    rows.append([(done, f"{prefix}:done")])
    return _keyboard(rows)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    context.user_data.clear()
    context.user_data.update(happening=[], evidence=[])
    text = ("You are not to blame, and we'll work out the next steps together.\n\n"
            "First: are you in danger right now?")
    markup = _keyboard([[("Yes, I'm in danger", "danger:yes")], [("No", "danger:no")],
                        [("Not sure", "danger:unsure")]])
    if update.callback_query:
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(text, reply_markup=markup)
    else:
        await update.effective_message.reply_text(text, reply_markup=markup)
    return DANGER


async def _ask_age(update: Update, intro: str = "") -> int:
    await update.callback_query.edit_message_text(
        intro + "How old are you?",
        reply_markup=_keyboard([[("Under 18", "age:under18")], [("18 or older", "age:adult")],
                                [("Rather not say", "age:unsaid")]]))
    return AGE


async def danger(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    await query.answer()
    answer = query.data.split(":", 1)[1]
    context.user_data["danger"] = answer
    if answer == "yes":
        await query.edit_message_text(
            "Call 110 (police) or 119 now. If you can't speak, stay on the line.",
            reply_markup=_keyboard([[("I have called / I'm safe now", "danger:called")]]))
        return DANGER_NOW
    return await _ask_age(update, "Thank you. " if answer == "no" else "That's all right. ")


async def danger_now(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await update.callback_query.answer()
    return await _ask_age(update)


async def age(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    await query.answer()
    context.user_data["age"] = query.data.split(":", 1)[1]
    note = "You are not in trouble; adults must help you.\n\n" \
        if context.user_data["age"] == "under18" else ""
    await query.edit_message_text(
        note + "What is happening? Tick everything that fits, then press Next.",
        reply_markup=_ticked(HAPPENING_ITEMS, context.user_data["happening"], "hap", "Next"))
    return HAPPENING


async def happening(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    await query.answer()
    item = query.data.split(":", 1)[1]
    chosen: list[str] = context.user_data["happening"]
    if item != "done":
        chosen.remove(item) if item in chosen else chosen.append(item)
        await query.edit_message_text(
            "What is happening? Tick everything that fits, then press Next.",
            reply_markup=_ticked(HAPPENING_ITEMS, chosen, "hap", "Next"))
        return HAPPENING
    if not chosen:
        await query.edit_message_text(
            "Please tick at least one, or 'Nothing yet'.",
            reply_markup=_ticked(HAPPENING_ITEMS, chosen, "hap", "Next"))
        return HAPPENING
    if {"threat", "paid", "video_call"} & set(chosen):
        await query.edit_message_text(
            DONT_TEXT, reply_markup=_keyboard([[("Understood", "dont:ok")]]))
        return DONT
    return await _evidence(update, context)


async def _evidence(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await update.callback_query.edit_message_text(
        "Keep evidence before anything disappears. Tick what you have done:",
        reply_markup=_ticked(EVIDENCE_ITEMS, context.user_data["evidence"], "ev", "Done"))
    return EVIDENCE


async def dont(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await update.callback_query.answer()
    return await _evidence(update, context)


async def evidence(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    await query.answer()
    item = query.data.split(":", 1)[1]
    chosen: list[str] = context.user_data["evidence"]
    if item != "done":
        chosen.remove(item) if item in chosen else chosen.append(item)
        return await _evidence(update, context)
    await query.edit_message_text(
        "When did it start? Type it (for example 'yesterday 23:00'), or press Skip.",
        reply_markup=_keyboard([[("Skip", "when:skip")]]))
    return WHEN


async def _block(update: Update, context: ContextTypes.DEFAULT_TYPE, *, edit: bool) -> int:
    text = ("Block and report their account in the app, after saving the evidence. "
            "Don't delete your own account yet.")
    markup = _keyboard([[("Next", "block:next")]])
    if edit:
        await update.callback_query.edit_message_text(text, reply_markup=markup)
    else:
        await update.effective_message.reply_text(text, reply_markup=markup)
    return BLOCK


async def when_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    text = (update.message.text or "").strip()
    if not text or len(text) > 200:
        await update.message.reply_text("Please type a short answer (up to 200 characters).",
                                        reply_markup=_keyboard([[("Skip", "when:skip")]]))
        return WHEN
    context.user_data["when"] = text
    return await _block(update, context, edit=False)


async def when_skip(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await update.callback_query.answer()
    return await _block(update, context, edit=True)


async def block(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    await query.answer()
    if {"threat", "paid", "video_call"} & set(context.user_data["happening"]):
        await query.edit_message_text(
            "Report it to the police (#9110, or your prefecture's cyber crime desk). "
            "Bring the evidence you saved.",
            reply_markup=_keyboard([[("Next", "police:next")]]))
        return POLICE
    return await _plan(update, context)


async def police(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await update.callback_query.answer()
    return await _plan(update, context)


async def _plan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    data = context.user_data
    lines = ["Your plan:"]
    if data.get("age") == "under18":
        lines.append("- Tell an adult you trust today.")
    if {"threat", "paid", "video_call"} & set(data["happening"]):
        lines += ["- Don't pay, don't reply.", "- Report to the police."]
    if "posted" in data["happening"]:
        lines.append("- Ask the site to take it down.")
    lines.append(f"- Evidence saved: {len(data['evidence'])} of {len(EVIDENCE_ITEMS)}.")
    if data.get("when"):
        lines.append(f"- It started: {data['when']}")
    await update.callback_query.edit_message_text(
        "\n".join(lines), reply_markup=_keyboard([[("Start again", "restart")]]))
    return ConversationHandler.END


async def use_buttons(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anything the current state does not expect: stay, and say what to do."""
    await update.effective_message.reply_text("Please use the buttons above, or /start.")


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await update.effective_message.reply_text("Stopped. Send /start to begin again.")
    return ConversationHandler.END


def build(token: str, request: BaseRequest, get_updates_request: BaseRequest,
          pickle_file: Path) -> Application:
    """The triage bot, persistent (PicklePersistence with the default update_interval)."""
    app = (
        ApplicationBuilder()
        .token(token)
        .request(request)
        .get_updates_request(get_updates_request)
        .persistence(PicklePersistence(filepath=pickle_file))
        .build()
    )
    app.add_handler(ConversationHandler(
        entry_points=[CommandHandler("start", start),
                      CallbackQueryHandler(start, pattern="^restart$")],
        states={
            DANGER: [CallbackQueryHandler(danger, pattern="^danger:(yes|no|unsure)$")],
            DANGER_NOW: [CallbackQueryHandler(danger_now, pattern="^danger:called$")],
            AGE: [CallbackQueryHandler(age, pattern="^age:")],
            HAPPENING: [CallbackQueryHandler(happening, pattern="^hap:")],
            DONT: [CallbackQueryHandler(dont, pattern="^dont:")],
            EVIDENCE: [CallbackQueryHandler(evidence, pattern="^ev:")],
            WHEN: [CallbackQueryHandler(when_skip, pattern="^when:skip$"),
                   MessageHandler(filters.TEXT & ~filters.COMMAND, when_text)],
            BLOCK: [CallbackQueryHandler(block, pattern="^block:")],
            POLICE: [CallbackQueryHandler(police, pattern="^police:")],
        },
        fallbacks=[CommandHandler("start", start), CommandHandler("cancel", cancel),
                   MessageHandler(filters.ALL, use_buttons)],
        name="triage",
        persistent=True,
    ))
    return app
