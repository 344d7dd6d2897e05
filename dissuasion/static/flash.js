// A page reached through a link to one of its parts (#unrouted, after routing from the queue) opens scrolled to
// that part: the messages of what was just done move there, under its heading, instead of staying above the fold.
document.addEventListener("DOMContentLoaded", () => {
  const target = window.location.hash && document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
  const messages = document.querySelectorAll("#content > .flash");
  if (!target || !messages.length) return;
  let after = target;
  messages.forEach((message) => { after.after(message); after = message; });
  target.scrollIntoView();
});
