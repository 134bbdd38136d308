/* A reply to a child who wrote by SMS: how many text messages it will take, counted
   as the focal point types. Progressive enhancement only: the server counts the same
   text again ("Count text messages", and on sending, where it refuses a reply past the
   limit). The alphabet, the segment sizes and the SMS template around the reply all
   come from the server (notifications/gsm.py, templates/sms/staff_reply.txt) in the
   #sms-counter-data block; this file only repeats its arithmetic. */
(function () {
  "use strict";
  var data = document.getElementById("sms-counter-data");
  var box = document.getElementById("id_body");
  var shown = document.getElementById("sms-segments");
  if (!data || !box || !shown) { return; }
  var tables = JSON.parse(data.textContent);
  var cost = document.getElementById("sms-cost");
  var unicode = document.getElementById("sms-unicode");
  var over = document.getElementById("sms-over");

  function inGsm(ch) {
    return tables.basic.indexOf(ch) !== -1 || tables.extension.indexOf(ch) !== -1;
  }

  function isGsm(text) {
    for (var ch of text) { if (!inGsm(ch)) { return false; } }
    return true;
  }

  // As complaints.services.clean_text: no control characters but newline and tab.
  function cleaned(text) {
    return text.replace(/\r\n?/g, "\n").replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "").trim();
  }

  // As notifications.sms._rendered: blank space folded in each line, empty lines dropped.
  function folded(text) {
    return text.split(/\n|\u2028|\u2029/).map(function (line) {
      return line.split(/\s+/).filter(Boolean).join(" ");
    }).filter(Boolean).join("\n");
  }

  // As notifications.gsm.to_gsm: smart quotes and accents folded where GSM-7 has a form.
  function toGsm(text) {
    var out = "";
    for (var ch of text) {
      if (inGsm(ch)) {
        out += ch;
      } else if (Object.prototype.hasOwnProperty.call(tables.smart, ch)) {
        out += tables.smart[ch];
      } else {
        var base = ch.normalize("NFKD").replace(/\p{Mn}/gu, "");
        out += base && isGsm(base) ? base : ch;
      }
    }
    return out;
  }

  // As notifications.gsm.segments.
  function segments(text) {
    var gsm = isGsm(text);
    var length = 0;
    if (gsm) {
      for (var ch of text) { length += tables.extension.indexOf(ch) !== -1 ? 2 : 1; }
    } else {
      length = text.length; // UTF-16 code units, as UCS-2 counts them
    }
    var sizes = gsm ? tables.gsm : tables.ucs2;
    return { count: length <= sizes[0] ? 1 : Math.ceil(length / sizes[1]), unicode: !gsm };
  }

  function update() {
    var reply = cleaned(box.value);
    var result = { count: 0, unicode: false };
    if (reply) {
      result = segments(toGsm(folded(tables.before + reply + tables.after)));
    }
    var tooLong = result.count > tables.limit;
    shown.textContent = String(result.count);
    if (unicode) { unicode.hidden = !result.unicode; }
    if (over) { over.hidden = !tooLong; }
    if (cost) { cost.classList.toggle("over", tooLong); }
  }

  box.addEventListener("input", update);
  update();
})();
