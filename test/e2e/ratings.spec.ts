import { expect, test } from './fixtures'

test('rates an output and records a preference between two, which the list and the win rate show', async ({
  app,
}) => {
  await app.keyboard.press('Control+5')
  await app.getByRole('tab', { name: 'Ratings' }).click()
  const rate = app.getByRole('region', { name: 'Rate an output' })
  await rate.getByLabel('Prompt').fill('Write a line about the sea.')
  await rate.getByLabel('Output').fill('The tide came in over the harbour wall.')
  await rate.getByLabel('Model (optional)').fill('tiny-moe@2000')
  await rate.getByRole('radio', { name: '4 of 5' }).check()
  await rate.getByRole('button', { name: 'fluent' }).click()
  await rate.getByRole('button', { name: 'Save rating' }).click()
  await expect(rate.getByText('Rating saved.')).toBeVisible()

  const compare = app.getByRole('region', { name: 'Compare two outputs' })
  await compare.getByLabel('Prompt').fill('Once upon a time')
  await compare.getByLabel('Output A', { exact: true }).fill('there was a tired harbour.')
  await compare.getByLabel('Output B', { exact: true }).fill('a ship came home with the tide.')
  await compare.getByLabel('Model of output A (optional)').fill('dense')
  await compare.getByLabel('Model of output B (optional)').fill('moe')
  await compare.getByRole('radio', { name: 'B is better' }).check()
  await compare.getByRole('button', { name: 'Save preference' }).click()
  await expect(compare.getByText('Preference saved.')).toBeVisible()
  await expect(compare.getByText(/dense won 0, moe won 1, 0 ties/)).toBeVisible()

  const recorded = app.getByRole('table', { name: 'Ratings and preferences' })
  await expect(
    recorded.getByRole('row', { name: /Once upon a time.*moe preferred over dense/ }),
  ).toBeVisible()
  await expect(
    recorded.getByRole('row', { name: /Write a line about the sea.*★★★★☆ · fluent/ }),
  ).toBeVisible()
})
