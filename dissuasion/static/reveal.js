// 显示完整号码 in place: the number replaces its masked form on this page (the look is audited by the server as
// for the plain form), so revealing the phone keeps the ID shown and Back needs no form sent again. Without JS,
// or when the answer is not the number (logged out meanwhile), the form is sent as a plain page request.
document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-reveal]");
  if (!form) return;
  event.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const response = await fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok || !(response.headers.get("Content-Type") || "").includes("json")) throw new Error("page");
    const answer = await response.json();
    const number = document.createElement("strong");
    number.className = "revealed";
    number.textContent = answer.number || form.dataset.none;
    form.closest(".reveal-slot").replaceWith(number);
  } catch (error) {
    form.submit();
  }
});
