// Forms whose action cannot be taken back (直接办结, 移交) ask once before they are sent: data-confirm holds the
// question, in the page's language. A form sent back with problems asks again on the next try.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
