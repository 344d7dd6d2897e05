// Forms whose action cannot be taken back (直接办结, 移交) ask once before they are sent: data-confirm holds the
// question, in the page's language. A form sent back with problems asks again on the next try. While a field the
// action needs (data-needed) is still empty, the form goes without the question: the server refuses it with a
// message beside that field, and nothing is done that would need confirming.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset && form.dataset.confirm;
  if (!question) return;
  const missing = Array.from(form.querySelectorAll("[data-needed]")).some((el) => !String(el.value || "").trim());
  if (!missing && !window.confirm(question)) event.preventDefault();
});
