/// A customer's page: who they are, the brief, the contact gate, the notes
/// timeline with the note form, consents, life events, the contact log, the profile.
enum CustomerTemplate {
    static let text = """
        {{> header}}
        <h1>{{name}}</h1>
        {{#legalName}}<p class="muted">Legal name: {{legalName}}</p>{{/legalName}}
        <ul class="facts" aria-label="Profile">{{#facts}}<li><span class="muted">{{label}}</span> {{value}}</li>{{/facts}}</ul>
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        {{#problem}}<p class="problem" role="alert">{{problem}}</p>{{/problem}}
        {{#hasConflicts}}<p class="problem">Concurrent values wait for a person: {{#conflicts}}{{label}} ({{#values}}“{{.}}” {{/values}}) {{/conflicts}}· <a href="/conflicts">resolve</a></p>{{/hasConflicts}}

        <section aria-labelledby="brief-title">
        <h2 id="brief-title">Brief</h2>
        <div class="brief">
        <p class="when">As of {{brief.at}}</p>
        {{#brief.hasNeeds}}<p class="tags"><strong>Needs now:</strong> {{#brief.needs}}<span class="tag">{{.}}</span>{{/brief.needs}}</p>{{/brief.hasNeeds}}
        {{#brief.hasAvoid}}<p class="tags"><strong>Avoid:</strong> {{#brief.avoid}}<span class="tag avoid">{{.}}</span>{{/brief.avoid}}</p>{{/brief.hasAvoid}}
        {{#brief.empty}}<p>Nothing to know yet.</p>{{/brief.empty}}
        {{#brief.sections}}
        <h3>{{title}}</h3>
        <ul>
        {{#statements}}<li>{{text}}{{#hasSources}} <span class="sources">— {{#sources}}{{#linked}}<a href="{{href}}">{{label}}</a>{{/linked}}{{^linked}}{{label}}{{/linked}} {{/sources}}</span>{{/hasSources}}</li>
        {{/statements}}
        </ul>
        {{/brief.sections}}
        </div>
        </section>

        <section id="gate" aria-labelledby="gate-title">
        <h2 id="gate-title">Before reaching out</h2>
        <form class="card" method="get" action="{{customerHref}}#gate">
        <div class="row">
        <div><label for="gate-channel">Channel</label>
        <select id="gate-channel" name="channel">{{#gateForm.channels}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/gateForm.channels}}</select></div>
        <div><label for="gate-purpose">Purpose</label>
        <select id="gate-purpose" name="purpose">{{#gateForm.purposes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/gateForm.purposes}}</select></div>
        <div><label for="gate-topic">Topic (optional)</label>
        <input id="gate-topic" name="topic" value="{{gateForm.topic}}"></div>
        </div>
        <button type="submit">May I contact them?</button>
        </form>
        {{#gate}}
        <div class="brief" role="status">
        <p class="{{#allowed}}yes{{/allowed}}{{^allowed}}no{{/allowed}}">{{headline}}</p>
        <ul>
        {{#reasons}}<li><span class="{{tone}}">{{verdict}}</span> <strong>{{check}}</strong>: {{message}}{{#hasSources}} <span class="sources">— {{#sources}}{{#linked}}<a href="{{href}}">{{label}}</a>{{/linked}}{{^linked}}{{label}}{{/linked}} {{/sources}}</span>{{/hasSources}}</li>
        {{/reasons}}
        </ul>
        </div>
        {{/gate}}
        </section>

        <section id="notes" aria-labelledby="notes-title">
        <h2 id="notes-title">Notes</h2>
        <form class="card" method="post" action="{{customerHref}}/notes">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="note-text">What was said or agreed</label>
        <textarea id="note-text" name="text" required>{{noteForm.text}}</textarea>
        <div class="row">
        <div><label for="note-author">Author</label><input id="note-author" name="author" value="{{noteForm.author}}" required></div>
        <div><label for="note-channel">Channel</label>
        <select id="note-channel" name="channel">{{#noteForm.channels}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/noteForm.channels}}</select></div>
        <div><label for="note-sentiment">Sentiment</label>
        <select id="note-sentiment" name="sentiment">{{#noteForm.sentiments}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/noteForm.sentiments}}</select></div>
        <div><label for="note-follow-up">Follow up on</label><input id="note-follow-up" name="follow_up" type="date" value="{{noteForm.followUp}}"></div>
        </div>
        <button type="submit">Add note</button>
        </form>
        {{#noNotes}}<p>No notes yet.</p>{{/noNotes}}
        <ul class="plain" aria-label="Notes, newest first">
        {{#notes}}
        <li id="note-{{id}}">
        <span class="when">{{at}}</span> · <strong>{{author}}</strong> · {{channel}}{{#sentiment}} · {{sentiment}}{{/sentiment}}{{#followUp}} · follow up on {{followUp}}{{/followUp}}{{#edited}} · {{edited}}{{/edited}}
        {{#redacted}}<p class="redacted">Text removed: {{redaction}}.</p>{{/redacted}}
        {{^redacted}}<p class="note-text">{{text}}</p>
        <details><summary>Edit this note</summary>
        <form method="post" action="{{customerHref}}/notes/{{id}}/edit">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="edit-text-{{id}}">New text (the earlier one stays as a revision)</label>
        <textarea id="edit-text-{{id}}" name="text" required>{{text}}</textarea>
        <div class="row"><div><label for="edit-author-{{id}}">Edited by</label><input id="edit-author-{{id}}" name="author" value="{{advisor}}" required></div></div>
        <button type="submit">Save the new text</button>
        </form>
        </details>
        <details><summary>Redact this note</summary>
        <form method="post" action="{{customerHref}}/notes/{{id}}/redact">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <div class="row">
        <div><label for="redact-by-{{id}}">Redacted by</label><input id="redact-by-{{id}}" name="by" value="{{advisor}}" required></div>
        <div><label for="redact-reason-{{id}}">Reason</label><input id="redact-reason-{{id}}" name="reason"></div>
        </div>
        <button class="secondary" type="submit">Remove the text of this note</button>
        </form>
        </details>
        {{/redacted}}
        </li>
        {{/notes}}
        </ul>
        </section>

        <section id="consents" aria-labelledby="consents-title">
        <h2 id="consents-title">Consents</h2>
        <table>
        <thead><tr><th scope="col">Purpose</th><th scope="col">In force</th><th scope="col">Source</th><th scope="col">Decided</th></tr></thead>
        <tbody>
        {{#consents}}<tr><td>{{purpose}}</td><td class="{{#granted}}yes{{/granted}}{{^granted}}no{{/granted}}">{{status}}</td><td>{{source}}</td><td><a href="#consent-{{id}}">{{at}}</a></td></tr>
        {{/consents}}
        {{^consents}}<tr><td colspan="4">No consent recorded.</td></tr>{{/consents}}
        </tbody>
        </table>
        <form class="card" method="post" action="{{customerHref}}/consents">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <div class="row">
        <div><label for="consent-purpose">Purpose</label>
        <select id="consent-purpose" name="purpose">{{#consentForm.purposes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/consentForm.purposes}}</select></div>
        <div><fieldset><legend>Decision</legend>
        <label><input type="radio" name="decision" value="grant"{{#consentForm.grant}} checked{{/consentForm.grant}}> grants</label>
        <label><input type="radio" name="decision" value="withdraw"{{^consentForm.grant}} checked{{/consentForm.grant}}> withdraws</label></fieldset></div>
        <div><label for="consent-source">Where it was decided</label><input id="consent-source" name="source" value="{{consentForm.source}}" required></div>
        </div>
        <button type="submit">Record the decision</button>
        </form>
        {{#hasConsentHistory}}
        <h3>Every decision, newest first</h3>
        <ul class="plain">{{#consentHistory}}<li id="consent-{{id}}"><span class="when">{{at}}</span> · {{purpose}} {{status}} · {{source}}</li>{{/consentHistory}}</ul>
        {{/hasConsentHistory}}
        </section>

        <section id="life-events" aria-labelledby="life-events-title">
        <h2 id="life-events-title">Life events</h2>
        <ul class="plain">
        {{#lifeEvents}}<li id="life-event-{{id}}"><strong>{{type}}</strong> on {{date}} · {{source}} · confidence {{confidence}}%{{#detail}}<br>{{detail}}{{/detail}}</li>
        {{/lifeEvents}}
        {{^lifeEvents}}<li>No life event recorded.</li>{{/lifeEvents}}
        </ul>
        <form class="card" method="post" action="{{customerHref}}/life-events">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <div class="row">
        <div><label for="life-type">What happened</label>
        <select id="life-type" name="type">{{#lifeEventForm.types}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/lifeEventForm.types}}</select></div>
        <div><label for="life-date">When</label><input id="life-date" name="date" type="date" value="{{lifeEventForm.date}}" required></div>
        <div><label for="life-source">Source</label><input id="life-source" name="source" value="{{lifeEventForm.source}}" required></div>
        <div><label for="life-confidence">Confidence, %</label><input id="life-confidence" name="confidence" inputmode="numeric" value="{{lifeEventForm.confidence}}" placeholder="100"></div>
        </div>
        <label for="life-detail">Detail (optional)</label><input id="life-detail" name="detail" value="{{lifeEventForm.detail}}">
        <button type="submit">Record the life event</button>
        </form>
        </section>

        <section id="contacts" aria-labelledby="contacts-title">
        <h2 id="contacts-title">Contact log</h2>
        <table>
        <thead><tr><th scope="col">When</th><th scope="col">Channel</th><th scope="col">Purpose</th><th scope="col">Topic</th><th scope="col">Outcome</th></tr></thead>
        <tbody>
        {{#contacts}}<tr id="contact-{{id}}"><td>{{at}}</td><td>{{channel}}</td><td>{{purpose}}</td><td>{{topic}}</td><td>{{outcome}}</td></tr>
        {{/contacts}}
        {{^contacts}}<tr><td colspan="5">No proactive contact recorded.</td></tr>{{/contacts}}
        </tbody>
        </table>
        <form class="card" method="post" action="{{customerHref}}/contacts">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <div class="row">
        <div><label for="contact-channel">Channel</label>
        <select id="contact-channel" name="channel">{{#contactForm.channels}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/contactForm.channels}}</select></div>
        <div><label for="contact-purpose">Purpose</label><input id="contact-purpose" name="purpose" value="{{contactForm.purpose}}" placeholder="marketing, advice, service …" required></div>
        <div><label for="contact-topic">Topic</label><input id="contact-topic" name="topic" value="{{contactForm.topic}}" required></div>
        <div><label for="contact-outcome">Outcome</label>
        <select id="contact-outcome" name="outcome">{{#contactForm.outcomes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/contactForm.outcomes}}</select></div>
        </div>
        <button type="submit">Record the contact</button>
        </form>
        </section>

        <section id="profile" aria-labelledby="profile-title">
        <h2 id="profile-title">Profile</h2>
        <table>
        <tbody>
        {{#fields}}<tr id="field-{{name}}"><th scope="row">{{label}}</th><td>{{value}}</td></tr>
        {{/fields}}
        </tbody>
        </table>
        </section>
        {{> footer}}
        """
}
