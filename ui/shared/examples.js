// The seven examples of amoCRM's reference page (notifications/adding), verbatim.
export const EXAMPLES = [
  ["show_message", "Message", {
    header: "Внимание",
    text: "Соединение установлено",
    date: 1534084500,
    icon: "https://www.example.com/images/telephone.png",
  }],
  ["show_message_error", "Error message", {
    header: "Внимание",
    text: "Соединение с сервером потеряно",
  }],
  ["show_notification", "Call popup", {
    text: { header: "Исходящий звонок", text: "Набор номера +79876543210" },
    type: "call",
  }],
  ["show_notification", "Error popup", {
    text: { header: "Ошибка", text: "Произошла ошибка в работе виджета" },
    type: "error",
  }],
  ["add_error", "Error to the center", {
    header: "Ошибка",
    text: "Не удалось установить задачу! Контакт не найден!",
    date: 1534085310,
    link: "/contacts/list/?term=4951234567",
  }],
  ["add_call", "Call with a card", {
    text: "Звонок от +7(999)888 55 33",
    date: 1534084500,
    from: "Петрова Анна",
    to: "Смирнов Алексей",
    element: { id: 18221265, type: "contact" },
    duration: 250,
    link: "https://example.com/dialog.mp3",
  }],
  ["add_call", "Call with a link", {
    text: "Звонок от +7(999)888 55 33",
    date: 1534084500,
    from: "Петрова Анна",
    to: "Смирнов Алексей",
    click_link: "/contacts/add/?phone=9191234567",
  }],
];
