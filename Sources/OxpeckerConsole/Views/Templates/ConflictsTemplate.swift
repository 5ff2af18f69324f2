/// Guarded fields edited concurrently on two devices: the values side by side, and a button to choose each.
enum ConflictsTemplate {
    static let text = """
        {{> header}}
        <h1>Conflicts</h1>
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        {{#problem}}<p class="problem" role="alert">{{problem}}</p>{{/problem}}
        {{#none}}<p>No conflicts: no guarded field (legal name, birth date, tax residence …) was set concurrently on two devices.</p>{{/none}}
        {{#conflicts}}
        <section class="card" aria-label="{{label}} of {{name}}">
        <h2><a href="{{customerHref}}">{{name}}</a> · {{label}}</h2>
        <div class="row">
        {{#candidates}}
        <div>
        <form method="post" action="{{action}}">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="value" value="{{json}}">
        <p><strong>“{{shown}}”</strong><br><span class="muted">written {{written}} on device {{device}}{{#current}}, shown meanwhile{{/current}}</span></p>
        <button type="submit">Keep “{{shown}}”</button>
        </form>
        </div>
        {{/candidates}}
        </div>
        <form method="post" action="{{action}}">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="typed-{{customer}}-{{field}}">Or another value</label>
        <input id="typed-{{customer}}-{{field}}" name="typed">
        <button type="submit">Set {{label}}</button>
        </form>
        </section>
        {{/conflicts}}
        {{> footer}}
        """
}
