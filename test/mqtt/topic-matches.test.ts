/** MqttLink dispatches a message to a wildcard subscription's handler by MQTT's filter rules (topicMatches). */
import t from 'tap'
import { topicMatches } from '../../agent/mqtt/link'

t.test('+ matches one level, # the rest and its parent; anything else exactly', async (t) => {
  const yes: [string, string][] = [
    ['ha/+/node/+/config', 'ha/sensor/node/rss/config'],
    ['a/#', 'a/b/c'],
    ['a/#', 'a'],
    ['#', 'a/b'],
    ['a/b', 'a/b'],
    ['+/+', 'a/'],
  ]
  const no: [string, string][] = [
    ['ha/+/node/+/config', 'ha/sensor/other/rss/config'],
    ['ha/+/node/+/config', 'ha/sensor/node/rss/config/x'],
    ['ha/+/node/+/config', 'ha/sensor/node/config'],
    ['a/+', 'a/b/c'],
    ['a/b', 'a/bc'],
    ['a/b/c', 'a/b'],
  ]
  for (const [f, x] of yes) t.ok(topicMatches(f, x), `${f} matches ${x}`)
  for (const [f, x] of no) t.notOk(topicMatches(f, x), `${f} does not match ${x}`)
})
