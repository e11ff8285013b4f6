"""Dialogs: confirmation, errors, long-running operations, node choice, text to read."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from rich.text import Text
from textual.widgets import Button, Label, Markdown, OptionList, RichLog, Static


class ConfirmModal(ModalScreen[bool]):
    """Yes/no question; dismisses with True only on an explicit confirmation."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, title: str, message: str, confirm_label: str = "Yes"):
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.message = message
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.message, classes="dialog-body", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.confirm_label} (y)", id="confirm", variant="warning")
                yield Button("Cancel (n)", id="cancel")

    def on_mount(self) -> None:
        # focus Cancel so an accidental Enter never confirms
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class ErrorModal(ModalScreen[None]):
    """A LabError (or anything unexpected) as title, message and what to do — no traceback."""

    BINDINGS = [Binding("escape,enter", "close", "Close")]

    def __init__(self, title: str, message: str, hint: str | None = None):
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.message = message
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide error"):
            yield Label(self.title_text, classes="dialog-title")
            with VerticalScroll(classes="dialog-scroll"):
                yield Static(self.message, classes="dialog-body", markup=False)
                if self.hint:
                    yield Static(f"→ {self.hint}", classes="dialog-hint", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", id="close")

    def on_button_pressed(self, _: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class TextModal(ModalScreen[None]):
    """Markdown to read (the solution), closed with Escape."""

    BINDINGS = [Binding("escape,q", "close", "Close")]

    def __init__(self, title: str, markdown: str):
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(self.title_text, classes="dialog-title")
            with VerticalScroll(classes="dialog-scroll"):
                yield Markdown(self.markdown)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close (esc)", id="close")

    def on_button_pressed(self, _: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class ProgressModal(ModalScreen[None]):
    """Progress lines of a long engine operation (start, advance, reset).

    The owner runs the operation in a thread worker, feeds lines with add_line() and dismisses
    the modal when it ends. With on_cancel the modal offers a Cancel button; the owner decides
    what cancelling means (for start: stop at the next progress point and undo)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, title: str, on_cancel: Callable[[], None] | None = None, note: str = ""):
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.on_cancel = on_cancel
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide progress"):
            yield Label(self.title_text, classes="dialog-title")
            yield RichLog(id="progress-log", wrap=True, markup=False, auto_scroll=True)
            yield Static(self.note, id="progress-note", classes="dialog-hint")
            if self.on_cancel is not None:
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Cancel (esc)", id="cancel", variant="error")

    def add_line(self, line: str) -> None:
        if not self.is_mounted:
            return  # the operation outlived the dialog (the app is quitting)
        self.query_one("#progress-log", RichLog).write(Text(f"• {line}"))

    def set_note(self, note: str) -> None:
        self.query_one("#progress-note", Static).update(note)

    def on_button_pressed(self, _: Button.Pressed) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        if self.on_cancel is None:
            return
        cancel, self.on_cancel = self.on_cancel, None  # cancel once
        self.query_one("#cancel", Button).disabled = True
        cancel()


class NodePickerModal(ModalScreen[str | None]):
    """Choose the node to open a shell on; dismisses with its short name or None."""

    BINDINGS = [Binding("escape", "close", "Cancel")]

    def __init__(self, nodes: list[str]):
        super().__init__(classes="dialog-screen")
        self.nodes = nodes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Shell on which node?", classes="dialog-title")
            yield OptionList(*self.nodes, id="node-list")
            yield Static("enter: open a shell · esc: cancel", classes="dialog-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.nodes[event.option_index])

    def action_close(self) -> None:
        self.dismiss(None)
